/**
 * Pure checks of the values the read-side queries hand to PostgreSQL as timestamps and dates: a string
 * that passes a route's pattern but is not a real instant (`2024-02-30`, `0000-01-01`, `T25:61:61Z`)
 * would make PostgreSQL throw (a 500, with the value in its error text). These accept exactly what
 * PostgreSQL reads as the same instant, years 0001–9999.
 */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

const daysIn = (year: number, month: number): number => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

const realDay = (y: string, m: string, d: string): boolean => {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
};

/** `YYYY-MM-DD`, a day that exists. */
export function isDay(value: string): boolean {
  const m = DAY.exec(value);
  return m !== null && realDay(m[1]!, m[2]!, m[3]!);
}

/**
 * A day, or a day with a time and a zone (`Z` or `±HH:MM`, at most 14:59 either way): hours 0–23,
 * minutes and seconds 0–59, at most six fractional digits.
 */
export function isInstant(value: string): boolean {
  if (value.length > 40) return false;
  const m = INSTANT.exec(value);
  if (!m || !realDay(m[1]!, m[2]!, m[3]!)) return false;
  if (m[4] === undefined) return true;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 59)) return false;
  if (m[8] !== undefined && (Number(m[8]) > 14 || Number(m[9]) > 59)) return false;
  return true;
}

/** The key of a keyset page: the last item's timestamp (to the microsecond) and event id. */
export interface CursorKey {
  readonly at: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,200}$/;

export const encodeCursor = (k: CursorKey): string => Buffer.from(JSON.stringify([k.at, k.id])).toString('base64url');

/** The cursor's key, or null when it is not one the API hands out: base64url of `["<instant>", "<uuid>"]` exactly. */
export function parseCursor(cursor: string): CursorKey | null {
  if (!CURSOR_TEXT.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !isInstant(at) || !UUID.test(id)) return null;
  return { at, id };
}
