/**
 * Helpers for set-based apply: a batch of changes goes to the database as one statement per table,
 * `INSERT ... SELECT ... FROM unnest($1::text[], $2::bigint[], ...)`, one array parameter per column.
 *
 * The array parameters are built here as PostgreSQL array literals (strings), in one pass and without
 * the driver's per-element escaping; both `pg` and PGlite pass a string parameter through as it is,
 * and the statement's cast (`$1::text[]`) parses it on the server.
 *
 * unnest flattens nested arrays, so a per-row array (legal bases, reasons ...) travels as one array
 * literal per row ('{a,b}') that the statement casts back with ::text[]; bytes travel as '\x..' hex
 * text cast to bytea.
 */

/** A value of one column: strings are quoted where needed, numbers, bigints and booleans written as they are. */
export type Cell = string | number | bigint | boolean | null | undefined;

const needsEscape = /[\\"]/;
const escapeAll = /[\\"]/g;
const quoted = (s: string): string => `"${needsEscape.test(s) ? s.replace(escapeAll, '\\$&') : s}"`;

// What an array literal can hold without quotes (ids, codes, pseudonyms, numbers as text).
const unquoted = /^[^{}",\\\s]+$/;
const isNull = (s: string) => s.length === 4 && s.toUpperCase() === 'NULL';

function cell(v: Cell): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return unquoted.test(v) && !isNull(v) ? v : quoted(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v);
}

/** One column as an array literal: `{"a","b",NULL}` / `{1,2,3}`. */
export function arrayParam(values: readonly Cell[]): string {
  const cells = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) cells[i] = cell(values[i]);
  // join() makes one flat string: the driver measures and copies it without flattening a rope first.
  return `{${cells.join(',')}}`;
}

// Codes (legal bases, category ids, reason codes ...) need no quoting inside a literal.
const bare = /^[A-Za-z0-9_.:-]+$/;
const isBare = (s: string) => bare.test(s) && !isNull(s);

/** A text[] value as an array literal ('{a,"b c"}'), for one row of a per-row array column; any string survives. */
export function arrayLiteral(items: readonly string[]): string {
  let plain = true;
  for (const s of items) if (!isBare(s)) plain = false;
  return `{${plain ? items.join(',') : items.map((s) => (isBare(s) ? s : quoted(s))).join(',')}}`;
}

/** Bytes as bytea hex input ('\x...'), or null. */
export const hexBytes = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;

/**
 * The rows as one array parameter per column, each column given by a function of the row:
 * `columns(rows, r => r.a, r => r.b)` → ['{a1,a2 ...}', '{b1,b2 ...}']. Rows must not be empty.
 */
export function columns<T>(rows: readonly T[], ...pick: ReadonlyArray<(row: T) => Cell>): string[] {
  const cells = new Array<string>(rows.length);
  return pick.map((f) => {
    for (let i = 0; i < rows.length; i++) cells[i] = cell(f(rows[i]!));
    return `{${cells.join(',')}}`;
  });
}
