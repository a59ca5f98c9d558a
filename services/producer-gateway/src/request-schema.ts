/**
 * The JSON Schema of POST /v1/events, derived from the Avro schemas (schemas/avro/<Event>/v<N>.avsc,
 * the current version of each), so a field, an enum symbol or a nullability added there reaches the
 * endpoint without anyone copying it by hand.
 *
 * The structure comes from Avro: every field, its type, which fields are required (not null-able),
 * the enum symbols, arrays, nested records. What Avro cannot say is declared here, per event type
 * (HTTP_SHAPES): the fields the gateway fills in itself (sourceSystem, controllerCvr), the ones whose
 * HTTP form is not their wire form (the subject arrives as a CPR number and is sealed here; personal
 * details arrive as a string map and are sealed here), the ones the SDK defaults (occurredAt), and the
 * bounds of the HTTP body (string lengths, array sizes, patterns). A shape naming a field the Avro
 * record does not have is an error, so renaming an Avro field cannot leave a bound behind unnoticed.
 *
 * Logical types in JSON: uuid → a string with format uuid; timestamp-micros → an RFC 3339 date-time
 * string (the SDK converts it to microseconds). A union [null, T] is T or null.
 */
import { SporbarError } from '@sporbar/common/errors';
import { loadSchemaCatalogue, type SchemaCatalogue } from '@sporbar/schemas';

export type JsonSchema = Readonly<Record<string, unknown>>;

/** The event types the endpoint accepts (the others are Sporbar's own: ReportViewed, RetentionExpired ...). */
export const HTTP_EVENT_TYPES = ['DisclosureRecorded', 'ConsentGiven', 'ConsentWithdrawn', 'ErasureRequested'] as const;
export type HttpEventType = (typeof HTTP_EVENT_TYPES)[number];

/**
 * How the HTTP body of one event type differs from its Avro record. Paths name fields as
 * 'recipient.id' (a field of a nested record) and 'dataCategories[]' (the items of an array).
 */
export interface HttpShape {
  /** Avro fields the gateway fills in itself: not accepted from the caller. */
  readonly omit?: readonly string[];
  /** Avro fields whose HTTP form is not derived from their Avro type (null-ability still is). */
  readonly replace?: Readonly<Record<string, JsonSchema>>;
  /** Avro fields that are not null-able but optional over HTTP (the SDK fills them in). */
  readonly optional?: readonly string[];
  /** Bounds merged into the derived schema of a path (maxLength, maxItems, pattern ...). */
  readonly bounds?: Readonly<Record<string, JsonSchema>>;
}

/** The subject as an operational system knows it: the CPR number, sealed by the gateway. */
const HTTP_SUBJECT: JsonSchema = { type: 'object', required: ['cpr'], additionalProperties: false, properties: { cpr: { type: 'string', maxLength: 11 } } };
/** Personal details in clear (sealed by the gateway): field name → text. */
const HTTP_PERSONAL_DETAILS: JsonSchema = { type: 'object', additionalProperties: { type: 'string', maxLength: 4000 } };
const ID: JsonSchema = { minLength: 1, maxLength: 80 };

const COMMON: Required<Pick<HttpShape, 'omit' | 'optional' | 'replace'>> = {
  omit: ['sourceSystem'],
  optional: ['occurredAt'],
  replace: { subject: HTTP_SUBJECT },
};

export const HTTP_SHAPES: Readonly<Record<HttpEventType, HttpShape>> = {
  DisclosureRecorded: {
    omit: ['controllerCvr'],
    replace: { personalDetails: HTTP_PERSONAL_DETAILS },
    bounds: {
      activity: ID,
      'recipient.id': ID,
      purpose: ID,
      legalBases: { maxItems: 10 },
      dataCategories: { maxItems: 50 },
      'dataCategories[]': ID,
      'transfer.country': { pattern: '^[A-Z]{2}$' },
      correlationId: { maxLength: 200 },
    },
  },
  ConsentGiven: { bounds: { activity: ID } },
  ConsentWithdrawn: { bounds: { activity: ID } },
  ErasureRequested: { bounds: { activity: { maxLength: 80 }, reason: { minLength: 1, maxLength: 500 } } },
};

type AvroType = string | readonly AvroType[] | { readonly type: string; readonly [k: string]: unknown };
interface AvroField {
  readonly name: string;
  readonly type: AvroType;
}

const unsupported = (path: string, what: string): never => {
  throw new SporbarError('SPB_ERR_INCOMPATIBLE_SCHEMA', `POST /v1/events: ${path || '(record)'} is ${what}, which has no JSON form here; declare it in HTTP_SHAPES`, { details: { path } });
};

const PRIMITIVES: Readonly<Record<string, JsonSchema>> = {
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  int: { type: 'integer' },
  long: { type: 'integer' },
  float: { type: 'number' },
  double: { type: 'number' },
};

const isNull = (t: AvroType): boolean => t === 'null' || (typeof t === 'object' && !Array.isArray(t) && (t as { type: string }).type === 'null');

/** The schema, or null as well. */
function orNull(schema: JsonSchema): JsonSchema {
  const type = schema['type'];
  if (typeof type === 'string') return { ...schema, type: [type, 'null'] };
  if (Array.isArray(schema['enum'])) return { ...schema, enum: [...(schema['enum'] as unknown[]), null] };
  return { anyOf: [schema, { type: 'null' }] };
}

/** Walks one Avro record into the JSON Schema of its HTTP form (pure: the same Avro schema and shape give the same result). */
function deriveRecord(record: { readonly namespace?: unknown; readonly fields?: unknown }, shape: HttpShape, eventType: string): { schema: JsonSchema; used: Set<string> } {
  const namespace = typeof record.namespace === 'string' ? record.namespace : '';
  const named = new Map<string, AvroType>();
  const used = new Set<string>();
  const join = (path: string, name: string) => (path ? `${path}.${name}` : name);
  const withBounds = (path: string, schema: JsonSchema): JsonSchema => {
    const bounds = shape.bounds?.[path];
    if (!bounds) return schema;
    used.add(`bounds:${path}`);
    return { ...schema, ...bounds };
  };

  const walk = (type: AvroType, path: string): JsonSchema => {
    if (typeof type === 'string') {
      const primitive = PRIMITIVES[type];
      if (primitive) return withBounds(path, primitive);
      const ref = named.get(type) ?? named.get(`${namespace}.${type}`);
      if (ref === undefined) return unsupported(path, `of Avro type ${type}`);
      return walk(ref, path);
    }
    if (Array.isArray(type)) {
      const branches = (type as readonly AvroType[]).filter((t) => !isNull(t));
      if (branches.length !== 1) return unsupported(path, 'a union of several non-null types');
      const inner = walk(branches[0]!, path);
      return branches.length < type.length ? orNull(inner) : inner;
    }
    const t = type as { readonly type: string; readonly [k: string]: unknown };
    if (typeof t['name'] === 'string' && (t.type === 'record' || t.type === 'enum' || t.type === 'fixed')) {
      const ns = typeof t['namespace'] === 'string' ? t['namespace'] : namespace;
      named.set(t['name'].includes('.') ? t['name'] : `${ns}.${t['name']}`, t);
      named.set(t['name'], t);
    }
    switch (t.type) {
      case 'record':
        return withBounds(path, fields(t['fields'] as readonly AvroField[], path, false));
      case 'enum':
        return withBounds(path, { enum: [...(t['symbols'] as readonly string[])] });
      case 'array':
        return withBounds(path, { type: 'array', items: walk(t['items'] as AvroType, `${path}[]`) });
      case 'map':
        return withBounds(path, { type: 'object', additionalProperties: walk(t['values'] as AvroType, `${path}{}`) });
      default:
        if (t['logicalType'] === 'uuid' && t.type === 'string') return withBounds(path, { type: 'string', format: 'uuid' });
        if (t['logicalType'] === 'timestamp-micros' && t.type === 'long') return withBounds(path, { type: 'string', format: 'date-time' });
        if (t.type === 'bytes' || t.type === 'fixed') return unsupported(path, `Avro ${t.type}`);
        return walk(t.type, path);
    }
  };

  const fields = (list: readonly AvroField[], path: string, top: boolean): JsonSchema => {
    const required: string[] = top ? ['type'] : [];
    const properties: Record<string, JsonSchema> = top ? { type: { const: eventType } } : {};
    for (const f of list) {
      const p = join(path, f.name);
      if (shape.omit?.includes(p)) {
        used.add(`omit:${p}`);
        continue;
      }
      const nullable = Array.isArray(f.type) && (f.type as readonly AvroType[]).some(isNull);
      const replacement = shape.replace?.[p];
      if (replacement) used.add(`replace:${p}`);
      properties[f.name] = replacement ? (nullable ? orNull(replacement) : replacement) : walk(f.type, p);
      const optional = shape.optional?.includes(p);
      if (optional) used.add(`optional:${p}`);
      if (!nullable && !optional) required.push(f.name);
    }
    return { type: 'object', additionalProperties: false, required, properties };
  };

  if (!Array.isArray(record.fields)) return unsupported('', 'not an Avro record');
  return { schema: fields(record.fields as readonly AvroField[], '', true), used };
}

/** Merges the common shape (every event type) with one event type's own. */
function shapeOf(eventType: HttpEventType, extra: HttpShape = HTTP_SHAPES[eventType]): HttpShape {
  return {
    omit: [...COMMON.omit, ...(extra.omit ?? [])],
    optional: [...COMMON.optional, ...(extra.optional ?? [])],
    replace: { ...COMMON.replace, ...extra.replace },
    bounds: { ...extra.bounds },
  };
}

/**
 * The JSON Schema of one event of `eventType` in a POST /v1/events body, from its Avro record schema.
 * Throws SPB_ERR_INCOMPATIBLE_SCHEMA when the Avro schema has something the HTTP form cannot carry,
 * or when the shape names a field the record does not have.
 */
export function httpEventSchema(eventType: HttpEventType, avroRecord: object, shape: HttpShape = HTTP_SHAPES[eventType]): JsonSchema {
  const full = shapeOf(eventType, shape);
  const { schema, used } = deriveRecord(avroRecord as { namespace?: unknown; fields?: unknown }, full, eventType);
  const declared = [
    ...(full.omit ?? []).map((p) => `omit:${p}`),
    ...(full.optional ?? []).map((p) => `optional:${p}`),
    ...Object.keys(full.replace ?? {}).map((p) => `replace:${p}`),
    ...Object.keys(full.bounds ?? {}).map((p) => `bounds:${p}`),
  ];
  const stale = declared.filter((d) => !used.has(d));
  if (stale.length > 0) {
    throw new SporbarError('SPB_ERR_INCOMPATIBLE_SCHEMA', `POST /v1/events: the HTTP shape of ${eventType} names what its Avro schema does not have: ${stale.join(', ')}`, {
      details: { eventType, stale },
    });
  }
  return schema;
}

/** One JSON Schema per accepted event type, from the current Avro version of each. */
export function httpEventSchemas(catalogue: SchemaCatalogue = loadSchemaCatalogue()): Readonly<Record<HttpEventType, JsonSchema>> {
  const out = {} as Record<HttpEventType, JsonSchema>;
  for (const eventType of HTTP_EVENT_TYPES) out[eventType] = httpEventSchema(eventType, catalogue.current(eventType).schema);
  return out;
}
