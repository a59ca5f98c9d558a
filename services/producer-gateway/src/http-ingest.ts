import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import type { SchemaCatalogue } from '@sporbar/schemas';
import type { Producer, Recorded } from '@sporbar/producer';
import { httpEventSchemas, HTTP_EVENT_TYPES, type HttpEventType } from './request-schema.ts';
import type { Authorize } from './clients.ts';
import { bearerToken, type TokenVerifier } from './token-verifier.ts';

type HttpEvent = { type: string; eventId: string; occurredAt?: string; subject: { cpr: string } } & Record<string, unknown>;

/** Who sent a request: the OAuth2 client of its access token and the producer that client writes as. */
export interface Principal {
  readonly clientId: string;
  readonly producerId: string;
}

export interface HttpIngestOptions {
  /** The SDK producer that records as `producerId` (its sourceSystem): one per producer, kept by the caller. */
  readonly producerFor: (producerId: string) => Producer;
  /** Verifies a bearer access token (a SporbarError SPB_ERR_UNAUTHORIZED when it is not good). */
  readonly verifyToken: TokenVerifier;
  /** The producer an OAuth2 client writes as; undefined: the client is not configured (403). */
  readonly producerOf: (clientId: string) => string | undefined;
  /** Whether a producer may send this event type for this activity (403 otherwise, for the whole request). */
  readonly authorize: Authorize;
  /** Requests per client per window. Default 600 per 60 s. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  readonly logger?: FastifyBaseLogger | false;
  /** Events per request at most. Default 500. */
  readonly maxBatch?: number;
  /** Where the request schema comes from. Default: schemas/avro (loadSchemaCatalogue()). */
  readonly catalogue?: SchemaCatalogue;
}

/** One event in the body: any of the accepted event types (oneOf, told apart by `type`). */
export function httpEventBodySchema(catalogue?: SchemaCatalogue): Record<string, unknown> {
  const schemas = httpEventSchemas(catalogue);
  return { type: 'object', required: ['type'], oneOf: HTTP_EVENT_TYPES.map((t) => schemas[t]) };
}

/**
 * POST /v1/events — the producer SDK over HTTP, for operational systems that cannot link it. The
 * same calls, the same validation, the same sealing and the same delivery guarantee: 202 means the
 * event is acknowledged by Kafka or fsync'd in the local spool. Bodies are never logged (they hold
 * CPR numbers until they are sealed here).
 *
 * The body's JSON Schema is derived from the Avro schemas (request-schema.ts). Validation is fastify's
 * ajv with its defaults except removeAdditional: note that those defaults include coerceTypes: 'array'
 * (a number where a string is expected is accepted as that number's text, a scalar where an array is
 * expected as a one-item array): the endpoint has always accepted that, and a test pins it, so that
 * turning it off (which would refuse requests accepted so far) is a deliberate change.
 */
export function buildHttpIngest(options: HttpIngestOptions): FastifyInstance {
  const { producerFor, verifyToken, producerOf, authorize } = options;
  const maxBatch = options.maxBatch ?? 500;
  const eventSchema = httpEventBodySchema(options.catalogue);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { allErrors: false, removeAdditional: false } },
  });
  app.setErrorHandler((error, _request, reply) => {
    if (isSporbarError(error)) {
      // RFC 6750: a refused bearer token says so in WWW-Authenticate.
      if (error.code === 'SPB_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    }
    const e = error as { validation?: unknown; statusCode?: number; message: string };
    // Validation messages name the field, never echo its value.
    if (e.validation || (e.statusCode && e.statusCode < 500)) return reply.status(e.statusCode ?? 400).send({ code: 'SPB_ERR_SCHEMA_INVALID', message: e.message });
    return reply.status(500).send({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });

  const principals = new WeakMap<FastifyRequest, Principal>();
  const principalOf = (request: FastifyRequest): Principal => {
    const p = principals.get(request);
    if (!p) throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'no authenticated client');
    return p;
  };
  /** onRequest, before the body is even read: the token must verify and its client must be a configured producer. */
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const { clientId } = await verifyToken(bearerToken(request.headers.authorization));
    const producerId = producerOf(clientId);
    if (producerId === undefined) throw new SporbarError('SPB_ERR_PRODUCER_NOT_ALLOWED', `client ${clientId} is not a producer of this gateway`);
    principals.set(request, { clientId, producerId });
  };

  const record = (producer: Producer, e: HttpEvent): Promise<Recorded> => {
    const base = { subject: e.subject, eventId: e.eventId, ...(e.occurredAt ? { occurredAt: new Date(e.occurredAt) } : {}) };
    switch (e.type) {
      case 'DisclosureRecorded':
        return producer.recordDisclosure({
          ...base,
          activity: e['activity'] as string,
          recipient: e['recipient'] as never,
          purpose: e['purpose'] as string,
          legalBases: e['legalBases'] as never,
          dataCategories: e['dataCategories'] as string[],
          transfer: (e['transfer'] as never) ?? null,
          correlationId: (e['correlationId'] as string | null) ?? null,
          personalDetails: (e['personalDetails'] as never) ?? null,
        });
      case 'ConsentGiven':
        return producer.giveConsent({ ...base, activity: e['activity'] as string, scope: e['scope'] as never });
      case 'ConsentWithdrawn':
        return producer.withdrawConsent({ ...base, activity: e['activity'] as string, scope: e['scope'] as never });
      default:
        return producer.requestErasure({ ...base, activity: (e['activity'] as string | null) ?? null, reason: e['reason'] as string });
    }
  };

  const max = options.rateLimit?.max ?? 600;
  const timeWindow = options.rateLimit?.windowMs ?? 60_000;
  void app.register(rateLimit, {
    global: false,
    // After authentication (onRequest), before the body is parsed: the key is the authenticated client.
    hook: 'preParsing',
    keyGenerator: (request) => principalOf(request).clientId,
    errorResponseBuilder: (_request, context) =>
      new SporbarError('SPB_ERR_RATE_LIMITED', `more than ${context.max} requests in ${Math.round(timeWindow / 1000)} s from this client; retry after ${context.after}`),
  });

  // In a plugin scope, so that @fastify/rate-limit is loaded when the route is added.
  void app.register(async (scope) => {
    scope.post<{ Body: HttpEvent | { events: HttpEvent[] } }>(
      '/v1/events',
      {
        onRequest: authenticate,
        config: { rateLimit: { max, timeWindow } },
        schema: {
          body: { oneOf: [eventSchema, { type: 'object', required: ['events'], additionalProperties: false, properties: { events: { type: 'array', minItems: 1, maxItems: maxBatch, items: eventSchema } } }] },
        },
      },
      async (request, reply) => {
        const body = request.body as HttpEvent | { events: HttpEvent[] };
        const events = 'events' in body ? (body.events as HttpEvent[]) : [body as HttpEvent];
        const { producerId } = principalOf(request);
        // Every event is authorized before any is recorded: a refused request records nothing.
        for (const [i, e] of events.entries()) {
          const activity = typeof e['activity'] === 'string' ? e['activity'] : null;
          if (!(await authorize(producerId, e.type as HttpEventType, activity))) {
            const where = 'events' in body ? `events[${i}]` : 'the event';
            throw new SporbarError('SPB_ERR_PRODUCER_NOT_ALLOWED', `${where}: producer ${producerId} may not send ${e.type}${activity ? ` for activity ${activity}` : ''}`);
          }
        }
        // The recorded sourceSystem is the authenticated producer, never what the body says.
        const producer = producerFor(producerId);
        // In order: one subject's events keep their order through the transport.
        const accepted: Recorded[] = [];
        for (const e of events) accepted.push(await record(producer, e));
        return reply.status(202).send({ accepted: accepted.map((a) => ({ eventId: a.eventId, eventType: a.eventType })) });
      },
    );
  });
  app.get('/health', async () => ({ status: 'ok' }));
  return app;
}
