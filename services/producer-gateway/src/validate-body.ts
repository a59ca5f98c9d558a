/**
 * The whole body of POST /v1/events checked before anything of it is sent: every item against the
 * JSON Schema of its event type (no coercion, no defaults, unknown properties refused), the CPR
 * number's shape, and the text rules (@sporbar/schemas: no control characters, nothing shaped like a
 * CPR number outside the subject). Pure: the validators are given. Every problem names the item's
 * index and the field, never a value.
 */
import { findControlCharacter, findCprLike, normaliseCpr, textProblems } from '@sporbar/schemas';
import type { ErrorCode } from '@sporbar/common/errors';
import { HTTP_EVENT_TYPES, type HttpEventType } from './request-schema.ts';

export type HttpEvent = { type: HttpEventType; eventId: string; occurredAt?: string; subject: { cpr: string } } & Record<string, unknown>;

export interface ItemProblem {
  /** The item's index in `events` (0 for a body that is one event). */
  readonly index: number;
  /** The field, e.g. 'recipient.id', 'dataCategories[1]', '(event)' for the item itself, 'events' for the envelope. */
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** What an ajv validation function reports (the subset used here). */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}
export type Validator = ((data: unknown) => boolean) & { errors?: readonly SchemaError[] | null };

export type BodyCheck = { readonly ok: true; readonly events: readonly HttpEvent[]; readonly batch: boolean } | { readonly ok: false; readonly batch: boolean; readonly problems: readonly ItemProblem[] };

/** '/recipient/id' → 'recipient.id', '/dataCategories/1' → 'dataCategories[1]'. */
export function fieldPath(instancePath: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/** A property name is echoed only when it is harmless (it is caller-supplied text like any value). */
const safeName = (name: unknown): string | null =>
  typeof name === 'string' && name.length <= 64 && !findControlCharacter(name) && !findCprLike(name) && /^[\w.-]+$/.test(name) ? name : null;

function schemaProblems(index: number, errors: readonly SchemaError[]): ItemProblem[] {
  const seen = new Set<string>();
  const out: ItemProblem[] = [];
  for (const e of errors) {
    let path = fieldPath(e.instancePath);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = path ? `${path}.${String(e.params['missingProperty'])}` : String(e.params['missingProperty']);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      const name = safeName(e.params['additionalProperty']);
      message = name ? `has an unknown property '${name}' (unknown properties are refused, not dropped)` : 'has an unknown property (unknown properties are refused, not dropped)';
    }
    const where = path || '(event)';
    const key = `${where}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ index, path: where, code: 'SPB_ERR_SCHEMA_INVALID', message: `${where}: ${message}` });
  }
  return out;
}

function itemProblems(index: number, item: unknown, validatorFor: (type: HttpEventType) => Validator): ItemProblem[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return [{ index, path: '(event)', code: 'SPB_ERR_SCHEMA_INVALID', message: '(event): must be an object' }];
  const type = (item as { type?: unknown }).type;
  if (typeof type !== 'string' || !(HTTP_EVENT_TYPES as readonly string[]).includes(type)) {
    return [{ index, path: 'type', code: 'SPB_ERR_SCHEMA_INVALID', message: `type: must be one of ${HTTP_EVENT_TYPES.join(', ')}` }];
  }
  const validate = validatorFor(type as HttpEventType);
  const problems: ItemProblem[] = validate(item) ? [] : schemaProblems(index, validate.errors ?? []);
  const cpr = (item as { subject?: { cpr?: unknown } }).subject?.cpr;
  if (typeof cpr === 'string') {
    try {
      normaliseCpr(cpr);
    } catch {
      problems.push({ index, path: 'subject.cpr', code: 'SPB_ERR_SCHEMA_INVALID', message: 'subject.cpr: expected a CPR number DDMMYY-SSSS' });
    }
  }
  for (const p of textProblems(item)) problems.push({ index, ...p });
  return problems;
}

/**
 * Checks a POST /v1/events body: one event, or `{ events: [...] }` of 1..maxBatch. Either every item
 * is valid (ok, the events in order) or every problem of every item is listed (nothing is sent).
 */
export function checkBody(body: unknown, validatorFor: (type: HttpEventType) => Validator, maxBatch: number): BodyCheck {
  const envelope = (message: string): BodyCheck => ({ ok: false, batch: true, problems: [{ index: 0, path: 'events', code: 'SPB_ERR_SCHEMA_INVALID', message: `events: ${message}` }] });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, batch: false, problems: [{ index: 0, path: '(body)', code: 'SPB_ERR_SCHEMA_INVALID', message: '(body): must be one event or { "events": [...] }' }] };
  const batch = 'events' in body;
  let items: readonly unknown[];
  if (batch) {
    const events = (body as { events: unknown }).events;
    if (Object.keys(body).length !== 1) return envelope('a batch body has the one property "events"');
    if (!Array.isArray(events)) return envelope('must be an array');
    if (events.length < 1 || events.length > maxBatch) return envelope(`must hold 1 to ${maxBatch} events`);
    items = events;
  } else {
    items = [body];
  }
  const problems = items.flatMap((item, index) => itemProblems(index, item, validatorFor));
  return problems.length > 0 ? { ok: false, batch, problems } : { ok: true, events: items as readonly HttpEvent[], batch };
}
