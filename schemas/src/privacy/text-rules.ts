/**
 * The text rules every edge applies to an event before anything of it is sealed, sent or stored
 * (the producer SDK, the HTTP gateway, the ingest for what arrives from Kafka). Pure: no I/O.
 *
 * 1. No control characters in any text field. Refused everywhere: C0 (U+0000–U+001F, tab and line
 *    feed included: every Avro string field is a single-line identifier or reason), DEL (U+007F), C1
 *    (U+0080–U+009F), the line and paragraph separators (U+2028, U+2029), the bidirectional
 *    embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069: they make a recipient id
 *    read differently in a DPO's view than it is stored), the non-characters U+FFFE/U+FFFF, and lone
 *    UTF-16 surrogates (not representable in UTF-8: the codec would silently change them).
 *    Personal details (free text, sealed and encrypted) may in addition hold tab, line feed and
 *    carriage return (multi-line notes); nothing else of the list above.
 * 2. No CPR number in clear through a side door: identifier and free-text fields refuse anything
 *    shaped like a CPR number (see `findCprLike`). Exempt are the subject (`subject.cpr`, which the SDK
 *    seals; `subject.value`, an envelope or a pseudonym), uuids (`eventId`, `causationEventId`: a hex
 *    group of a uuid can hold ten digits in a row), key ids, and personal details (personal data by
 *    design, stored encrypted under the subject's key).
 *
 * Every refusal names the field path and never echoes the value (it may be a real CPR number).
 */
import { SporbarError, type ErrorCode } from '@sporbar/common/errors';

export interface TextProblem {
  /** Dotted path, e.g. 'recipient.id' or 'dataCategories[2]'. */
  readonly path: string;
  readonly code: Extract<ErrorCode, 'SPB_ERR_CONTROL_CHARACTER' | 'SPB_ERR_CPR_IN_TEXT'>;
  /** Names the field and the rule, never the value. */
  readonly message: string;
}

// eslint-disable-next-line no-control-regex -- this is the list of control characters refused
const FORBIDDEN_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex -- the same, with tab, line feed and carriage return allowed
const FORBIDDEN_MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Printable ASCII only: the common case, decided without the longer pattern. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Where a control character is, and which (a code point is no personal data), or null. */
export function findControlCharacter(text: string, options: { readonly multiLine?: boolean } = {}): { index: number; codePoint: string } | null {
  if (PLAIN_ASCII.test(text)) return null;
  const m = (options.multiLine ? FORBIDDEN_MULTI_LINE : FORBIDDEN_SINGLE_LINE).exec(text);
  if (!m) return null;
  return { index: m.index, codePoint: `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` };
}

/**
 * Six digits (DDMMYY), an optional hyphen or space, four digits (the serial), not part of a longer run
 * of digits; letters or other characters around it do not matter ('order0101901234x' holds one).
 */
const CPR_SHAPE = /(?<!\d)(\d{2})(\d{2})(\d{2})[- ]?(\d)\d{3}(?!\d)/g;
/** Ten digits with an optional separator somewhere: most text has none, decided without the full pattern. */
const CPR_SHAPE_QUICK = /\d{6}[- ]?\d{4}/;

/**
 * The century of a CPR number from its seventh digit (the first of the serial) and its year, as the
 * CPR office defines it: 0–3 → 1900s; 4 and 9 → 2000s for 00–36, else 1900s; 5–8 → 2000s for 00–57,
 * else 1800s.
 */
export function cprBirthYear(yy: number, seventhDigit: number): number {
  if (seventhDigit <= 3) return 1900 + yy;
  if (seventhDigit === 4 || seventhDigit === 9) return (yy <= 36 ? 2000 : 1900) + yy;
  return (yy <= 57 ? 2000 : 1800) + yy;
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * True when `text` holds something shaped like a CPR number: DDMMYY-SSSS or DDMMYYSSSS whose date
 * part is a real day of the century its seventh digit gives (31 April, 29 February 1900 or 2100
 * are not; 29 February 2000 is). A phone number (8 digits, or +45 and 8), an amount, a longer digit
 * run and a date-like string that is no valid day are not.
 */
export function findCprLike(text: string): boolean {
  if (text.length < 10 || !CPR_SHAPE_QUICK.test(text)) return false;
  CPR_SHAPE.lastIndex = 0;
  for (let m = CPR_SHAPE.exec(text); m !== null; m = CPR_SHAPE.exec(text)) {
    const day = Number(m[1]);
    const month = Number(m[2]);
    if (day < 1 || month < 1 || month > 12) continue;
    if (day <= daysIn(cprBirthYear(Number(m[3]), Number(m[4])), month)) return true;
  }
  return false;
}

/**
 * A digit or anything outside printable ASCII: only such text needs the full checks (a character
 * class is the cheapest scan V8 has; most identifiers have no digit at all).
 */
const SUSPECT = /[^\x20-\x2f\x3a-\x7e]/;

/** Paths exempt from the CPR rule (the control-character rule applies to them all the same). */
const CPR_EXEMPT = new Set(['subject.cpr', 'subject.value', 'subject.pseudonym', 'eventId', 'causationEventId', 'keyId']);
/** Free text where tab and line breaks are allowed and a CPR number is no leak (sealed, encrypted). */
const PERSONAL_DETAILS = 'personalDetails';

/** One string's problem, if any (`details`: inside personal details). */
function checkText(problems: TextProblem[], value: string, path: string, details: boolean): void {
  const control = findControlCharacter(value, { multiLine: details });
  if (control) {
    problems.push({ path, code: 'SPB_ERR_CONTROL_CHARACTER', message: `${path}: contains the control character ${control.codePoint} at index ${control.index}` });
  } else if (!details && !CPR_EXEMPT.has(path) && findCprLike(value)) {
    problems.push({ path, code: 'SPB_ERR_CPR_IN_TEXT', message: `${path}: holds something shaped like a CPR number (DDMMYY-SSSS); a CPR number goes in subject only` });
  }
}

/**
 * Walks an object or array. Paths are built only for nested values and for suspect text, so the
 * common event costs one character-class scan per string. (Module-level functions, not closures: tsx
 * wraps every closure it creates in a naming helper, which cost more than the checks.)
 */
function visitValue(problems: TextProblem[], value: object, path: string, details: boolean): void {
  if (value instanceof Uint8Array) return; // bytes (Buffer included)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') {
        if (SUSPECT.test(v)) checkText(problems, v, `${path}[${i}]`, details);
      } else if (v !== null && typeof v === 'object') visitValue(problems, v, `${path}[${i}]`, details);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const v = record[k];
    if (SUSPECT.test(k)) {
      // A field name is caller-supplied text too: checked, and never put into a path when it fails.
      const where = path || '(event)';
      if (findControlCharacter(k)) {
        problems.push({ path: where, code: 'SPB_ERR_CONTROL_CHARACTER', message: `${where}: a field name contains a control character` });
        continue;
      }
      if (findCprLike(k)) {
        problems.push({ path: where, code: 'SPB_ERR_CPR_IN_TEXT', message: `${where}: a field name holds something shaped like a CPR number` });
        continue;
      }
    }
    if (typeof v === 'string') {
      if (SUSPECT.test(v)) {
        const p = path ? `${path}.${k}` : k;
        checkText(problems, v, p, details || p === PERSONAL_DETAILS);
      }
    } else if (v !== null && typeof v === 'object') {
      const p = path ? `${path}.${k}` : k;
      visitValue(problems, v, p, details || p === PERSONAL_DETAILS);
    }
  }
}

/**
 * Every text problem of one event (its Avro form, or the HTTP form of the gateway: the same field
 * paths). Walks every string of the event, so a text field added to a schema is covered by default;
 * bytes, numbers and booleans are skipped.
 */
export function textProblems(event: unknown): TextProblem[] {
  const problems: TextProblem[] = [];
  if (typeof event === 'string') {
    if (SUSPECT.test(event)) checkText(problems, event, '(event)', false);
  } else if (event !== null && typeof event === 'object') visitValue(problems, event, '', false);
  return problems;
}

/** Throws the first text problem as a SporbarError (SPB_ERR_CONTROL_CHARACTER or SPB_ERR_CPR_IN_TEXT) naming the field. */
export function assertTextRules(event: unknown, context?: string): void {
  const problems = textProblems(event);
  const first = problems[0];
  if (!first) return;
  throw new SporbarError(first.code, context ? `${context}.${first.message}` : first.message, {
    details: { path: first.path, problems: problems.map((p) => ({ path: p.path, code: p.code })) },
  });
}
