import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { isSporbarError, SporbarError, type ErrorCode } from '@sporbar/common/errors';
import { checkAnswer, type OpsCheck } from '@sporbar/common/health';
import type { GatewayMetrics } from './metrics.ts';
import type { SchemaCatalogue } from '@sporbar/schemas';
import type { Producer, Recorded } from '@sporbar/producer';
import { httpEventSchemas, HTTP_EVENT_TYPES, type HttpEventType } from './request-schema.ts';
import type { Authorize } from './clients.ts';
import { bearerToken, type TokenVerifier } from '@sporbar/common/oidc-token';
import { checkBody, type HttpEvent, type ItemProblem, type Validator } from './validate-body.ts';

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
  /** Whether a producer may send this event type for this activity, and if not which field is at fault (403 for the whole request, listing every refused item). */
  readonly authorize: Authorize;
  /** Requests per client per window. Default 600 per 60 s. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  readonly logger?: FastifyBaseLogger | false;
  /** Events per request at most. Default 500. */
  readonly maxBatch?: number;
  /** Where the request schema comes from. Default: schemas/avro (loadSchemaCatalogue()). */
  readonly catalogue?: SchemaCatalogue;
  /** Counted as requests are answered, and served on GET /metrics. */
  readonly metrics?: GatewayMetrics;
  /** `GET /ready`: whether its dependencies answer. Default: always ready. */
  readonly ready?: () => Promise<OpsCheck>;
}

/** One event in the body: any of the accepted event types (oneOf, told apart by `type`). */
export function httpEventBodySchema(catalogue?: SchemaCatalogue): Record<string, unknown> {
  const schemas = httpEventSchemas(catalogue);
  return { type: 'object', required: ['type'], oneOf: HTTP_EVENT_TYPES.map((t) => schemas[t]) };
}

/** One item's outcome when a batch was not accepted whole. */
export interface ItemResult {
  readonly index: number;
  readonly eventId: string;
  /** accepted: acknowledged by Kafka or fsync'd in the spool; failed: the transport refused it; not_sent: not tried, an earlier item failed (the batch keeps its order). */
  readonly status: 'accepted' | 'failed' | 'not_sent';
  readonly eventType: string;
  readonly code?: ErrorCode;
}

/**
 * The ajv options of the endpoint, fastify's defaults overridden: no type coercion (a string where an
 * array is declared, a number where a string is, are 400s, never converted values), no defaults
 * filled in, unknown properties refused rather than dropped, every problem reported.
 */
export const GATEWAY_AJV_OPTIONS = { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: true } as const;

/**
 * POST /v1/events — the producer SDK over HTTP, for operational systems that cannot link it. The
 * same calls, the same validation, the same sealing and the same delivery guarantee: 202 means every
 * event of the body is acknowledged by Kafka or fsync'd in the local spool. Bodies are never logged
 * (they hold CPR numbers until they are sealed here).
 *
 * Every request carries an OAuth2 access token (verified before the body is read); its client is a
 * configured producer, and the events are recorded as that producer (their sourceSystem), never as
 * what the body says. A rate limit applies per client.
 *
 * The whole body is checked first (validate-body.ts): any invalid item is a 400 listing each bad
 * item's index and field, and nothing is sent; then every item is authorized against the producer
 * registry's allow-list of the client's producer (403 for the whole request, listing each refused
 * item's index and field, nothing sent). Then the events are recorded in order; when the transport refuses one
 * (spool full ...), the ones after it are not sent (one subject's events keep their order) and the
 * answer lists each item's outcome: 207 when some were accepted, the failure's own status (503 for
 * SPB_ERR_SPOOL_FULL) when none was. A client retries exactly the items not accepted, with the same
 * eventIds: the ingest stores an eventId once.
 */
export function buildHttpIngest(options: HttpIngestOptions): FastifyInstance {
  const { producerFor, verifyToken, producerOf, authorize } = options;
  const maxBatch = options.maxBatch ?? 500;
  const schemas = httpEventSchemas(options.catalogue);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { ...GATEWAY_AJV_OPTIONS } },
  });
  const { metrics } = options;
  /** The items of a parsed body (one event, or `{ events }`). */
  const itemsOf = (body: unknown): number => {
    if (typeof body !== 'object' || body === null) return 0;
    const events = (body as { events?: unknown }).events;
    return Array.isArray(events) ? events.length : 1;
  };
  const refused = (request: FastifyRequest, code: string) => {
    if (!metrics || request.routeOptions.url !== '/v1/events') return;
    metrics.refusedRequests.inc({ reason: code });
    const items = itemsOf(request.body);
    if (items > 0) metrics.refusedEvents.inc({ reason: code }, items);
    if (code === 'SPB_ERR_RATE_LIMITED') metrics.rateLimited.inc({ client: principals.get(request)?.clientId ?? 'unknown' });
  };
  if (metrics) {
    app.addHook('onResponse', (request, reply, done) => {
      metrics.requests.observe({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  }
  app.setErrorHandler((error, request, reply) => {
    if (isSporbarError(error)) {
      refused(request, error.code);
      // RFC 6750: a refused bearer token says so in WWW-Authenticate.
      if (error.code === 'SPB_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    }
    const e = error as { validation?: unknown; statusCode?: number; message: string };
    // Validation messages name the field, never echo its value.
    if (e.validation || (e.statusCode && e.statusCode < 500)) {
      refused(request, 'SPB_ERR_SCHEMA_INVALID');
      return reply.status(e.statusCode ?? 400).send({ code: 'SPB_ERR_SCHEMA_INVALID', message: e.message });
    }
    refused(request, 'SPB_ERR_INTERNAL');
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
    scope.post(
      '/v1/events',
      {
        onRequest: authenticate,
        config: { rateLimit: { max, timeWindow } },
        // The envelope only: each item is validated against its own event type's schema in the
        // handler, so that a batch's answer can name every bad item by index.
        schema: { body: { type: 'object' } },
      },
      async (request, reply) => {
        const validatorFor = (type: HttpEventType): Validator => request.compileValidationSchema(schemas[type], 'body') as unknown as Validator;
        const checked = checkBody(request.body, validatorFor, maxBatch);
        if (!checked.ok) {
          const first = checked.problems[0]!;
          const codes = new Set(checked.problems.map((p) => p.code));
          const code = codes.size === 1 ? first.code : 'SPB_ERR_SCHEMA_INVALID';
          refused(request, code);
          return reply.status(400).send({
            code,
            message: `${checked.problems.length} problem(s); nothing was sent. First: ${checked.batch && first.path !== 'events' ? `events[${first.index}].` : ''}${first.message}`,
            problems: checked.problems,
          });
        }
        const { producerId } = principalOf(request);
        // Every event is authorized before any is recorded (the producer registry's allow-list): a
        // refused item refuses the request, nothing is sent, and the answer names each refused item and field.
        const notAllowed: ItemProblem[] = [];
        for (const [index, e] of checked.events.entries()) {
          const activity = typeof e['activity'] === 'string' ? e['activity'] : null;
          const verdict = authorize(producerId, e.type as HttpEventType, activity);
          if (!verdict.ok) notAllowed.push({ index, path: verdict.path, code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: `${verdict.path}: ${verdict.reason}` });
        }
        if (notAllowed.length > 0) {
          const first = notAllowed[0]!;
          refused(request, 'SPB_ERR_PRODUCER_NOT_ALLOWED');
          return reply.status(403).send({
            code: 'SPB_ERR_PRODUCER_NOT_ALLOWED',
            message: `${notAllowed.length} item(s) not allowed; nothing was sent. First: ${checked.batch ? `events[${first.index}].` : ''}${first.message}`,
            problems: notAllowed,
          });
        }
        // The recorded sourceSystem is the authenticated producer, never what the body says.
        const producer = producerFor(producerId);
        // In order: one subject's events keep their order through the transport. After a refusal the
        // rest is not sent, so a retry of the items not accepted keeps that order too.
        const results: ItemResult[] = [];
        let failure: { status: number; code: ErrorCode; message: string } | null = null;
        for (const [index, e] of checked.events.entries()) {
          if (failure) {
            results.push({ index, eventId: e.eventId, eventType: e.type, status: 'not_sent', code: failure.code });
            continue;
          }
          try {
            const r = await record(producer, e);
            results.push({ index, eventId: r.eventId, eventType: r.eventType, status: 'accepted' });
          } catch (err) {
            failure = isSporbarError(err) ? { status: err.statusCode, code: err.code, message: err.message } : { status: 500, code: 'SPB_ERR_INTERNAL', message: 'internal error' };
            if (!isSporbarError(err)) request.log.error({ err: { name: (err as Error).name } }, 'recording an event failed');
            results.push({ index, eventId: e.eventId, eventType: e.type, status: 'failed', code: failure.code });
          }
        }
        const accepted = results.filter((r) => r.status === 'accepted');
        for (const r of results) {
          if (r.status === 'accepted') metrics?.acceptedEvents.inc({ event_type: r.eventType });
          else metrics?.refusedEvents.inc({ reason: r.code ?? 'SPB_ERR_INTERNAL' });
        }
        if (failure && accepted.length === 0) metrics?.refusedRequests.inc({ reason: failure.code });
        if (!failure) return reply.status(202).send({ accepted: accepted.map((a) => ({ eventId: a.eventId, eventType: a.eventType })) });
        if (accepted.length === 0) return reply.status(failure.status).send({ code: failure.code, message: `${failure.message}; nothing of this request was accepted`, results });
        return reply.status(207).send({
          code: failure.code,
          message: `${accepted.length} of ${results.length} accepted; retry the others (same eventIds)`,
          results,
        });
      },
    );
  });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const { status, body } = checkAnswer(options.ready ? await options.ready() : { ok: true }, 'ready');
    return reply.status(status).send(body);
  });
  if (metrics) app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
