import { SporbarError } from '@sporbar/common/errors';
import type { Sql } from './sql.ts';
import { encodeCursor, isDay, isInstant, parseCursor, type CursorKey } from './params.ts';

/**
 * Read-side queries the access API runs. Every one is keyset-paginated (occurred_at DESC, event_id)
 * and parameterised: filters never become SQL text.
 */
export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass it back to get the next page. Null on the last page. */
  readonly nextCursor: string | null;
}

export function decodeCursor(cursor: string | undefined): CursorKey | null {
  if (!cursor) return null;
  const key = parseCursor(cursor);
  if (!key) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'cursor: not one this API handed out', { details: { field: 'cursor' } });
  return key;
}

/** A timestamp or date filter PostgreSQL would refuse is the caller's mistake (400), never a database error. */
function checked(field: string, value: string | undefined, valid: (v: string) => boolean, what: string): string | undefined {
  if (value === undefined || valid(value)) return value;
  throw new SporbarError('SPB_ERR_BAD_REQUEST', `${field}: not ${what}`, { details: { field } });
}

/** One pseudonym, or all of a subject's (current and rotated-out keys). */
export type SubjectRefs = string | readonly string[];
export const subjectList = (s: SubjectRefs): string[] => (typeof s === 'string' ? [s] : [...s]);

const iso = (d: unknown): string => (d instanceof Date ? d : new Date(String(d))).toISOString();

/** Keyset page of a read-model table; every item carries its eventId and occurredAt, `map` adds the rest. */
async function page<T extends { eventId: string; occurredAt: string }>(
  db: Sql,
  base: { table: string; where: string[]; params: unknown[]; columns: string },
  cursor: string | undefined,
  limit: number,
  map: (row: Record<string, unknown>) => Omit<T, 'eventId' | 'occurredAt'>,
): Promise<Page<T>> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'limit: not a whole number from 1 to 1000', { details: { field: 'limit' } });
  const where = [...base.where];
  const params = [...base.params];
  const key = decodeCursor(cursor);
  if (key) {
    params.push(key.at, key.id);
    where.push(`(occurred_at, event_id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(limit + 1);
  // cursor_at: the timestamp to the microsecond, for the cursor. pg and PGlite parse a timestamptz
  // into a Date (milliseconds), and a cursor built from that would skip the rows stored later within
  // the same millisecond.
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${base.columns}, occurred_at, event_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM ${base.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY occurred_at DESC, event_id DESC LIMIT $${params.length}`,
    params,
  );
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map((r) => ({ eventId: String(r['event_id']), occurredAt: iso(r['occurred_at']), ...map(r) }) as T),
    nextCursor: more && last ? encodeCursor({ at: String(last['cursor_at']), id: String(last['event_id']) }) : null,
  };
}

export interface DisclosureFilter {
  readonly from?: string;
  readonly to?: string;
  readonly recipient?: string;
  readonly purpose?: string;
  readonly cursor?: string;
  readonly limit: number;
}

export interface DisclosureItem {
  readonly eventId: string;
  readonly occurredAt: string;
  /** The pseudonym the event is stored under. */
  readonly subject: string;
  readonly activity: string;
  readonly recipientId: string;
  readonly recipientRole: string;
  readonly purpose: string;
  readonly legalBases: string[];
  readonly dataCategories: string[];
  readonly transfer: { country: string; safeguard: string } | null;
  /**
   * As the ingest stored it, or 'undeclared' when the compliance alerts found the subject's consent
   * missing (then `reasons` holds CONSENT_MISSING): see `disclosureClassification`.
   */
  readonly classification: string;
  readonly reasons: string[];
  readonly position: string;
  /** The notice version the ingest judged it by (null: none named — no notice in force covered its activity, or stored before versions were named). */
  readonly judgedBy: { readonly notice: string; readonly version: string | null; readonly sha256: string } | null;
  /** Encrypted personal details as stored, or null. */
  readonly details: Buffer | null;
}

/**
 * A disclosure's classification as the subject sees it. The ingest classifies without the subject's
 * consents (they are read-model state, not known when an event is stored), so a consent-based
 * disclosure made without consent in force is stored as declared; the compliance-alerts projection
 * decides that (CONSENT_MISSING) against the consents in the log before it. Pure: the stored
 * classification and the alert's reasons (null: no alert) give the one to show — undeclared, with
 * CONSENT_MISSING among its reasons, when the alert says so.
 */
export function disclosureClassification(
  stored: { readonly classification: string; readonly reasons: readonly string[] },
  alertReasons: readonly string[] | null,
): { classification: string; reasons: string[] } {
  const reasons = [...stored.reasons];
  for (const r of alertReasons ?? []) if (!reasons.includes(r)) reasons.push(r);
  return { classification: reasons.length > 0 ? 'undeclared' : stored.classification, reasons };
}

export function disclosuresPage(db: Sql, subject: SubjectRefs, f: DisclosureFilter, prefix = 'rm_'): Promise<Page<DisclosureItem>> {
  const where = ['subject = ANY($1::text[])'];
  const params: unknown[] = [subjectList(subject)];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.from) add('occurred_at >= ?::timestamptz', checked('from', f.from, isInstant, 'a date or an instant'));
  if (f.to) add('occurred_at < ?::timestamptz', checked('to', f.to, isInstant, 'a date or an instant'));
  if (f.recipient) add('recipient_id = ?', f.recipient);
  if (f.purpose) add('purpose = ?', f.purpose);
  return page(
    db,
    {
      table: `${prefix}subject_disclosures`,
      where,
      params,
      // The alert of the same event (a primary-key look-up): where a missing consent is decided.
      columns: `subject, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories, transfer_country, transfer_safeguard, classification, reasons, position::text AS position, details, notice, notice_version, notice_sha256,
        (SELECT a.reasons FROM ${prefix}compliance_alerts a WHERE a.event_id = ${prefix}subject_disclosures.event_id) AS alert_reasons`,
    },
    f.cursor,
    f.limit,
    (r) => ({
      subject: r['subject'] as string,
      activity: r['activity'] as string,
      recipientId: r['recipient_id'] as string,
      recipientRole: r['recipient_role'] as string,
      purpose: r['purpose'] as string,
      legalBases: r['legal_bases'] as string[],
      dataCategories: r['data_categories'] as string[],
      transfer: r['transfer_country'] ? { country: r['transfer_country'] as string, safeguard: r['transfer_safeguard'] as string } : null,
      ...disclosureClassification({ classification: r['classification'] as string, reasons: r['reasons'] as string[] }, (r['alert_reasons'] as string[] | null) ?? null),
      position: r['position'] as string,
      judgedBy: r['notice'] && r['notice_sha256'] ? { notice: r['notice'] as string, version: (r['notice_version'] as string | null) ?? null, sha256: r['notice_sha256'] as string } : null,
      details: r['details'] ? Buffer.from(r['details'] as Uint8Array) : null,
    }),
  );
}

/** One disclosure on the citizen's timeline chart: who, when, and whether it is flagged (not covered, or consent missing). */
export interface DisclosureTime {
  readonly recipientId: string;
  readonly occurredAt: string;
  readonly flagged: boolean;
}

/**
 * Every disclosure of the subject as (recipient, time, flagged), oldest first, at most `limit`
 * (the newest are kept when there are more): the timeline chart's input. Three columns and the
 * alert look-up, no details, so a citizen with thousands of disclosures costs one light query.
 */
export async function disclosureTimes(db: Sql, subject: SubjectRefs, prefix = 'rm_', limit = 100_000): Promise<DisclosureTime[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT recipient_id, occurred_at, classification,
        (SELECT a.reasons FROM ${prefix}compliance_alerts a WHERE a.event_id = ${prefix}subject_disclosures.event_id) AS alert_reasons
       FROM ${prefix}subject_disclosures WHERE subject = ANY($1::text[])
     ORDER BY occurred_at DESC, event_id DESC LIMIT $2`,
    [subjectList(subject), limit],
  );
  return rows
    .map((r) => ({
      recipientId: r['recipient_id'] as string,
      occurredAt: iso(r['occurred_at']),
      flagged: r['classification'] === 'undeclared' || ((r['alert_reasons'] as string[] | null) ?? []).length > 0,
    }))
    .reverse();
}

/**
 * Whether `eventId` is one of the subject's disclosures (a primary-key look-up): the citizen's proof
 * download answers only for the caller's own. `eventId` must be a uuid (the route checks it).
 */
export async function isSubjectDisclosure(db: Sql, subject: SubjectRefs, eventId: string, prefix = 'rm_'): Promise<boolean> {
  const { rows } = await db.query<Record<string, unknown>>(`SELECT 1 AS found FROM ${prefix}subject_disclosures WHERE event_id = $1::uuid AND subject = ANY($2::text[])`, [eventId, subjectList(subject)]);
  return rows.length > 0;
}

export interface AlertItem {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly subject: string;
  readonly activity: string;
  readonly recipientId: string;
  readonly purpose: string;
  readonly reasons: string[];
  /** The producer the ingest authenticated for the disclosure; null when it was stored without one. */
  readonly producer: string | null;
}

export function alertsPage(db: Sql, f: { cursor?: string; limit: number; reason?: string }, prefix = 'rm_'): Promise<Page<AlertItem>> {
  return page(
    db,
    { table: `${prefix}compliance_alerts`, where: f.reason ? ['$1 = ANY(reasons)'] : [], params: f.reason ? [f.reason] : [], columns: 'subject, activity, recipient_id, purpose, reasons, producer' },
    f.cursor,
    f.limit,
    (r) => ({
      subject: r['subject'] as string,
      activity: r['activity'] as string,
      recipientId: r['recipient_id'] as string,
      purpose: r['purpose'] as string,
      reasons: r['reasons'] as string[],
      producer: (r['producer'] as string | null) ?? null,
    }),
  );
}

export interface AccessItem {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly subject: string;
  readonly viewerId: string;
  readonly viewerRole: string;
  readonly reason: string | null;
  readonly view: string;
}

export function accessLogPage(db: Sql, f: { subject?: SubjectRefs; cursor?: string; limit: number }, prefix = 'rm_'): Promise<Page<AccessItem>> {
  return page(
    db,
    { table: `${prefix}access_log`, where: f.subject ? ['subject = ANY($1::text[])'] : [], params: f.subject ? [subjectList(f.subject)] : [], columns: 'subject, viewer_id, viewer_role, reason, view' },
    f.cursor,
    f.limit,
    (r) => ({
      subject: r['subject'] as string,
      viewerId: r['viewer_id'] as string,
      viewerRole: r['viewer_role'] as string,
      reason: (r['reason'] as string | null) ?? null,
      view: r['view'] as string,
    }),
  );
}

export interface RecipientDay {
  readonly day: string;
  readonly purpose: string;
  readonly activity: string;
  readonly disclosures: number;
  readonly undeclared: number;
}

export async function recipientDays(db: Sql, recipientId: string, f: { from?: string; to?: string }, prefix = 'rm_'): Promise<RecipientDay[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, purpose, activity, disclosures, undeclared FROM ${prefix}recipient_daily
      WHERE recipient_id = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day < $3::date)
      ORDER BY day DESC, purpose, activity LIMIT 5000`,
    [recipientId, checked('from', f.from, isDay, 'a date') ?? null, checked('to', f.to, isDay, 'a date') ?? null],
  );
  return rows.map((r) => ({ day: r['day'] as string, purpose: r['purpose'] as string, activity: r['activity'] as string, disclosures: Number(r['disclosures']), undeclared: Number(r['undeclared']) }));
}

export async function subjectTransfers(db: Sql, subject: SubjectRefs, prefix = 'rm_'): Promise<Array<{ recipientId: string; country: string; safeguard: string; disclosures: number }>> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT recipient_id, transfer_country, transfer_safeguard, count(*)::int AS n FROM ${prefix}subject_disclosures
      WHERE subject = ANY($1::text[]) AND transfer_country IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    [subjectList(subject)],
  );
  return rows.map((r) => ({ recipientId: r['recipient_id'] as string, country: r['transfer_country'] as string, safeguard: r['transfer_safeguard'] as string, disclosures: Number(r['n']) }));
}

export async function subjectConsents(db: Sql, subject: SubjectRefs, prefix = 'rm_'): Promise<Array<{ activity: string; scope: string; given: boolean; since: string }>> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT DISTINCT ON (activity, scope) activity, scope, given, occurred_at FROM ${prefix}consent_events
      WHERE subject = ANY($1::text[]) ORDER BY activity, scope, occurred_at DESC, event_id DESC`,
    [subjectList(subject)],
  );
  return rows.map((r) => ({ activity: r['activity'] as string, scope: r['scope'] as string, given: r['given'] as boolean, since: iso(r['occurred_at']) }));
}

export async function subjectRetention(db: Sql, subject: SubjectRefs, prefix = 'rm_'): Promise<Array<{ activity: string; ruleId: string; deadline: string; done: boolean }>> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT activity, rule_id, deadline, done_at FROM ${prefix}retention_schedule WHERE subject = ANY($1::text[]) ORDER BY deadline`,
    [subjectList(subject)],
  );
  return rows.map((r) => ({ activity: r['activity'] as string, ruleId: r['rule_id'] as string, deadline: iso(r['deadline']), done: r['done_at'] !== null }));
}

/** A quarantined (event, projection), as the DPO and the auditor see it: codes, never content. */
export interface QuarantineItem {
  readonly runner: string;
  readonly projection: string;
  readonly position: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly reasonCode: string;
  readonly message: string;
  readonly attempts: number;
  readonly quarantinedAt: string;
  readonly resolvedAt: string | null;
}

/** Quarantined events, newest first; unresolved only unless `all`. */
export async function quarantineList(db: Sql, f: { limit: number; all?: boolean }): Promise<QuarantineItem[]> {
  if (!Number.isSafeInteger(f.limit) || f.limit < 1 || f.limit > 1000) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'limit: not a whole number from 1 to 1000', { details: { field: 'limit' } });
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT runner, projection, position::text AS position, event_id, event_type, reason_code, message, attempts, quarantined_at, resolved_at
       FROM projection_quarantine WHERE $1::boolean OR resolved_at IS NULL ORDER BY position DESC, projection LIMIT $2`,
    [f.all === true, f.limit],
  );
  return rows.map((r) => ({
    runner: String(r['runner']),
    projection: String(r['projection']),
    position: String(r['position']),
    eventId: String(r['event_id']),
    eventType: String(r['event_type']),
    reasonCode: String(r['reason_code']),
    message: String(r['message']),
    attempts: Number(r['attempts']),
    quarantinedAt: iso(r['quarantined_at']),
    resolvedAt: r['resolved_at'] ? iso(r['resolved_at']) : null,
  }));
}
