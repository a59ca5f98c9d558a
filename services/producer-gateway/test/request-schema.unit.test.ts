import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { ConsentScopeValues, LegalBasisValues, loadSchemaCatalogue, RecipientRoleValues, TransferSafeguardValues } from '@sporbar/schemas';
import { HTTP_EVENT_TYPES, HTTP_SHAPES, httpEventSchema, httpEventSchemas, type HttpEventType, type JsonSchema } from '../src/request-schema.ts';

const catalogue = loadSchemaCatalogue();
const generated = httpEventSchemas(catalogue);
const avroOf = (t: HttpEventType) => catalogue.current(t).schema as { fields: { name: string; type: unknown }[] };
const clone = <T>(x: T): T => structuredClone(x);

/**
 * The request schema as it was written by hand before it was derived (services/producer-sdk/src/
 * http-ingest.ts up to this change), one entry per event type: what the endpoint accepted then is
 * exactly what it accepts now. (ConsentGiven and ConsentWithdrawn were one branch with
 * `type: { enum: [both] }`; here each has its own, which accepts the same bodies.)
 */
const subject = { type: 'object', required: ['cpr'], additionalProperties: false, properties: { cpr: { type: 'string', maxLength: 11 } } };
const common = { eventId: { type: 'string', format: 'uuid' }, occurredAt: { type: 'string', format: 'date-time' }, subject };
const ID = { type: 'string', minLength: 1, maxLength: 80 };
const consent = (type: string) => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', 'eventId', 'subject', 'activity', 'scope'],
  properties: { type: { const: type }, ...common, activity: ID, scope: { enum: [...ConsentScopeValues] } },
});
const HAND_WRITTEN: Record<HttpEventType, object> = {
  DisclosureRecorded: {
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
  ConsentGiven: consent('ConsentGiven'),
  ConsentWithdrawn: consent('ConsentWithdrawn'),
  ErasureRequested: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'eventId', 'subject', 'reason'],
    properties: { type: { const: 'ErasureRequested' }, ...common, activity: { type: ['string', 'null'], maxLength: 80 }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
  },
};

/** `required` lists compared as sets (their order means nothing to JSON Schema). */
function normalise(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normalise);
  if (x === null || typeof x !== 'object') return x;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k === 'required' && Array.isArray(v) ? [...v].sort() : normalise(v)]));
}

const props = (s: JsonSchema) => s['properties'] as Record<string, JsonSchema>;

describe('the POST /v1/events schema, derived from the Avro schemas', () => {
  it.each(HTTP_EVENT_TYPES)('%s: exactly the schema that was written by hand', (t) => {
    expect(normalise(generated[t])).toEqual(normalise(HAND_WRITTEN[t]));
  });

  it.each(HTTP_EVENT_TYPES)('%s: every Avro field appears (but those the gateway fills in), required unless null-able or defaulted', (t) => {
    const s = generated[t];
    const shape = HTTP_SHAPES[t];
    const filledIn = new Set(['sourceSystem', ...(shape.omit ?? [])]);
    const fields = avroOf(t).fields;
    expect(Object.keys(props(s)).sort()).toEqual(['type', ...fields.map((f) => f.name).filter((n) => !filledIn.has(n))].sort());
    for (const f of fields) {
      if (filledIn.has(f.name)) continue;
      const nullable = Array.isArray(f.type) && f.type.includes('null');
      expect((s['required'] as string[]).includes(f.name), f.name).toBe(!nullable && f.name !== 'occurredAt');
    }
    expect(s['additionalProperties']).toBe(false);
  });

  it('enums are the Avro symbols, read from the Avro schemas', () => {
    /** The symbols of the Avro enum named `name`, wherever it is declared in the event's schema. */
    const symbols = (t: HttpEventType, name: string): unknown => {
      let found: unknown;
      JSON.stringify(avroOf(t), (_k, v: { type?: unknown; name?: unknown; symbols?: unknown }) => {
        if (v && typeof v === 'object' && v.type === 'enum' && v.name === name) found = v.symbols;
        return v;
      });
      expect(found, name).toBeDefined();
      return found;
    };
    const d = props(generated.DisclosureRecorded);
    expect(props(d['recipient']!)['role']!['enum']).toEqual(symbols('DisclosureRecorded', 'RecipientRole'));
    expect((d['legalBases']!['items'] as JsonSchema)['enum']).toEqual(symbols('DisclosureRecorded', 'LegalBasis'));
    expect(props(d['transfer']!)['safeguard']!['enum']).toEqual(symbols('DisclosureRecorded', 'TransferSafeguard'));
    for (const t of ['ConsentGiven', 'ConsentWithdrawn'] as const) expect(props(generated[t])['scope']!['enum']).toEqual(symbols(t, 'ConsentScope'));
  });

  it('a change in the Avro schema changes the request schema', () => {
    const avro = clone(avroOf('ConsentGiven')) as { fields: { name: string; type: unknown; default?: unknown }[] };
    (avro.fields.find((f) => f.name === 'scope')!.type as { symbols: string[] }).symbols.push('VIDEO_CALL');
    avro.fields.push({ name: 'channel', type: 'string' }, { name: 'note', type: ['null', 'string'], default: null });
    const changed = httpEventSchema('ConsentGiven', avro);
    expect(props(changed)['scope']!['enum']).toContain('VIDEO_CALL');
    expect(props(changed)['channel']).toEqual({ type: 'string' });
    expect(props(changed)['note']).toEqual({ type: ['string', 'null'] });
    expect(changed['required']).toContain('channel');
    expect(changed['required']).not.toContain('note');

    // A field made null-able becomes optional; a field dropped disappears.
    const disclosure = clone(avroOf('DisclosureRecorded')) as { fields: { name: string; type: unknown }[] };
    const purpose = disclosure.fields.find((f) => f.name === 'purpose')!;
    purpose.type = ['null', 'string'];
    disclosure.fields = disclosure.fields.filter((f) => f.name !== 'correlationId');
    expect(() => httpEventSchema('DisclosureRecorded', disclosure)).toThrow(/correlationId/); // its bound names a field that is gone
    const { correlationId: _gone, ...bounds } = HTTP_SHAPES.DisclosureRecorded.bounds!;
    const d = httpEventSchema('DisclosureRecorded', disclosure, { ...HTTP_SHAPES.DisclosureRecorded, bounds });
    expect(d['required']).not.toContain('purpose');
    expect(props(d)['purpose']).toEqual({ type: ['string', 'null'], minLength: 1, maxLength: 80 });
    expect(props(d)['correlationId']).toBeUndefined();
  });

  it('refuses an Avro type with no JSON form here (bytes not declared in the shape, a union of two types)', () => {
    const withBytes = clone(avroOf('ErasureRequested')) as { fields: { name: string; type: unknown }[] };
    withBytes.fields.push({ name: 'attachment', type: 'bytes' });
    const err = (() => {
      try {
        httpEventSchema('ErasureRequested', withBytes);
      } catch (e) {
        return e;
      }
    })();
    expect(isSporbarError(err, 'SPB_ERR_INCOMPATIBLE_SCHEMA')).toBe(true);
    const withUnion = clone(avroOf('ErasureRequested')) as { fields: { name: string; type: unknown }[] };
    withUnion.fields.push({ name: 'either', type: ['string', 'long'] });
    expect(() => httpEventSchema('ErasureRequested', withUnion)).toThrow(/union/);
  });
});
