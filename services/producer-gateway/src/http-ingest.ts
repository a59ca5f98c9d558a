import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { isSporbarError } from '@sporbar/common/errors';
import type { SchemaCatalogue } from '@sporbar/schemas';
import type { Producer, Recorded } from '@sporbar/producer';
import { httpEventSchemas, HTTP_EVENT_TYPES } from './request-schema.ts';

type HttpEvent = { type: string; eventId: string; occurredAt?: string; subject: { cpr: string } } & Record<string, unknown>;

export interface HttpIngestOptions {
  readonly producer: Producer;
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
  const { producer } = options;
  const maxBatch = options.maxBatch ?? 500;
  const eventSchema = httpEventBodySchema(options.catalogue);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { allErrors: false, removeAdditional: false } },
  });
  app.setErrorHandler((error, _request, reply) => {
    if (isSporbarError(error)) return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    const e = error as { validation?: unknown; statusCode?: number; message: string };
    // Validation messages name the field, never echo its value.
    if (e.validation || (e.statusCode && e.statusCode < 500)) return reply.status(e.statusCode ?? 400).send({ code: 'SPB_ERR_SCHEMA_INVALID', message: e.message });
    return reply.status(500).send({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });

  const record = (e: HttpEvent): Promise<Recorded> => {
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

  app.post<{ Body: HttpEvent | { events: HttpEvent[] } }>(
    '/v1/events',
    {
      schema: {
        body: { oneOf: [eventSchema, { type: 'object', required: ['events'], additionalProperties: false, properties: { events: { type: 'array', minItems: 1, maxItems: maxBatch, items: eventSchema } } }] },
      },
    },
    async (request, reply) => {
      const body = request.body as HttpEvent | { events: HttpEvent[] };
      const events = 'events' in body ? (body.events as HttpEvent[]) : [body as HttpEvent];
      // In order: one subject's events keep their order through the transport.
      const accepted: Recorded[] = [];
      for (const e of events) accepted.push(await record(e));
      return reply.status(202).send({ accepted: accepted.map((a) => ({ eventId: a.eventId, eventType: a.eventType })) });
    },
  );
  app.get('/health', async () => ({ status: 'ok' }));
  return app;
}
