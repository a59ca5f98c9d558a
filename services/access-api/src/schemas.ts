/** JSON schemas shared by routes: fastify validates input with them and serialises output by them. */
export const named = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } } as const;
const namedList = { type: 'array', items: named } as const;

export const recipientReportSchema = {
  type: 'object',
  required: ['recipient', 'activities', 'purposes', 'legalBases', 'dataCategories', 'disclosures', 'undeclared', 'firstAt', 'lastAt'],
  properties: {
    recipient: {
      type: 'object',
      required: ['id', 'name', 'role', 'declaredInRegister'],
      properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, declaredInRegister: { type: 'boolean' }, cvr: { type: 'string' } },
    },
    activities: namedList,
    purposes: namedList,
    legalBases: namedList,
    dataCategories: namedList,
    disclosures: { type: 'integer' },
    undeclared: { type: 'integer' },
    firstAt: { type: 'string', format: 'date-time' },
    lastAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const disclosureReportSchema = {
  type: 'object',
  required: ['subject', 'totalDisclosures', 'recipients'],
  properties: { subject: { type: 'string' }, totalDisclosures: { type: 'integer' }, recipients: { type: 'array', items: recipientReportSchema } },
} as const;

export const PSEUDONYM = '^psn_[a-z0-9]{1,8}_[A-Za-z0-9_-]{43}$';
const ID = '^[a-z0-9][a-z0-9-]{0,79}$';

/** A day (from the page's date inputs) or an instant. */
export const DATE_OR_TIME = { type: 'string', maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2}))?$', format: 'sporbar-instant' } as const;
/** A day that exists (`0000-01-01` and `2024-02-30` are refused). */
export const DAY = { type: 'string', maxLength: 10, format: 'sporbar-day' } as const;

export const pageQuery = {
  cursor: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', format: 'sporbar-cursor' },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
} as const;

export const disclosureQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...pageQuery,
    from: DATE_OR_TIME,
    to: DATE_OR_TIME,
    recipient: { type: 'string', pattern: ID },
    purpose: { type: 'string', pattern: ID },
  },
} as const;

export const disclosureItem = {
  type: 'object',
  required: ['eventId', 'occurredAt', 'activity', 'recipientId', 'purpose', 'legalBases', 'dataCategories', 'classification'],
  properties: {
    eventId: { type: 'string' },
    occurredAt: { type: 'string', format: 'date-time' },
    activity: { type: 'string' },
    recipientId: { type: 'string' },
    recipientName: { type: 'string' },
    recipientRole: { type: 'string' },
    purpose: { type: 'string' },
    legalBases: { type: 'array', items: { type: 'string' } },
    dataCategories: { type: 'array', items: { type: 'string' } },
    transfer: { type: ['object', 'null'], properties: { country: { type: 'string' }, safeguard: { type: 'string' } } },
    classification: { type: 'string' },
    reasons: { type: 'array', items: { type: 'string' } },
    /** The reasons in plain words (English), in the order of `reasons`. */
    reasonTexts: { type: 'array', items: { type: 'string' } },
    position: { type: 'string' },
    judgedBy: {
      type: ['object', 'null'],
      description: 'the notice version the disclosure was judged by (in force when it happened); null when none is named (no notice in force covered its activity)',
      properties: { notice: { type: 'string' }, version: { type: ['string', 'null'] }, sha256: { type: 'string' }, text: { type: 'string' } },
    },
    details: {
      type: ['object', 'null'],
      properties: {
        status: { type: 'string', enum: ['ok', 'erased', 'unreadable'] },
        values: { type: 'object', additionalProperties: { type: 'string' } },
        erasedAt: { type: 'string' },
        cause: { type: 'string' },
      },
    },
  },
} as const;

/** One compliance alert (GET /v1/alerts): an undeclared or consent-missing disclosure, and the producer the ingest authenticated for it. */
export const alertItem = {
  type: 'object',
  required: ['eventId', 'occurredAt', 'subject', 'activity', 'recipientId', 'purpose', 'reasons', 'producer'],
  properties: {
    eventId: { type: 'string' },
    occurredAt: { type: 'string', format: 'date-time' },
    subject: { type: 'string' },
    activity: { type: 'string' },
    recipientId: { type: 'string' },
    purpose: { type: 'string' },
    reasons: { type: 'array', items: { type: 'string' } },
    producer: { type: ['string', 'null'], description: 'the producer id the ingest authenticated (producer registry); null for a disclosure stored without one' },
  },
} as const;

export const pageOf = (item: object) => ({ type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } } }) as const;

export const errorSchema = { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
