import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { isSporbarError } from '@sporbar/common/errors';
import { LegalBasisValues, RecipientRoleValues, TransferSafeguardValues, ConsentScopeValues } from '@sporbar/schemas';
import type { Producer, Recorded } from './producer.ts';

/**
 * POST /v1/events — the producer SDK over HTTP, for operational systems that cannot link it. The
 * same calls, the same validation, the same sealing and the same delivery guarantee: 202 means the
 * event is acknowledged by Kafka or fsync'd in the local spool. Bodies are never logged (they hold
 * CPR numbers until they are sealed here).
 */
const subject = { type: 'object', required: ['cpr'], additionalProperties: false, properties: { cpr: { type: 'string', maxLength: 11 } } } as const;
const common = {
  eventId: { type: 'string', format: 'uuid' },
  occurredAt: { type: 'string', format: 'date-time' },
  subject,
} as const;
const ID = { type: 'string', minLength: 1, maxLength: 80 } as const;

const eventSchema = {
  type: 'object',
  required: ['type'],
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'eventId', 'subject', 'activity', 'recipient', 'purpose', 'legalBases', 'dataCategories'],
      properties: {
        type: { const: 'DisclosureRecorded' },
        ...common,
        activity: ID,
        recipient: { type: 'object', required: ['id', 'role'], additionalProperties: false, properties: { id: ID, role: { enum: [...RecipientRoleValues] } } },
        purpose: ID,
        legalBases: { type: 'array', maxItems: 10, items: { enum: [...LegalBasisValues] } },
        dataCategories: { type: 'array', maxItems: 50, items: ID },
        transfer: { type: ['object', 'null'], required: ['country', 'safeguard'], additionalProperties: false, properties: { country: { type: 'string', pattern: '^[A-Z]{2}$' }, safeguard: { enum: [...TransferSafeguardValues] } } },
        correlationId: { type: ['string', 'null'], maxLength: 200 },
        personalDetails: { type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: 4000 } },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'eventId', 'subject', 'activity', 'scope'],
      properties: { type: { enum: ['ConsentGiven', 'ConsentWithdrawn'] }, ...common, activity: ID, scope: { enum: [...ConsentScopeValues] } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'eventId', 'subject', 'reason'],
      properties: { type: { const: 'ErasureRequested' }, ...common, activity: { type: ['string', 'null'], maxLength: 80 }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
    },
  ],
} as const;

type HttpEvent = { type: string; eventId: string; occurredAt?: string; subject: { cpr: string } } & Record<string, unknown>;

export function buildHttpIngest(options: { producer: Producer; logger?: FastifyBaseLogger | false; maxBatch?: number }): FastifyInstance {
  const { producer } = options;
  const maxBatch = options.maxBatch ?? 500;
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
