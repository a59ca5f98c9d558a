import type { LegalBasis, RecipientRole } from '@sporbar/schemas';
import { arrayLiteral, columns, hexBytes } from '../batch.ts';
import { preparedProjection, withPrefix, type Projection } from '../projection.ts';

/** One disclosure as the subject's report shows it: codes only, no personal details. */
export interface DisclosureRow {
  readonly eventId: string;
  readonly subject: string;
  readonly position: bigint;
  readonly occurredAtMicros: number;
  readonly activity: string;
  readonly recipientId: string;
  readonly recipientRole: RecipientRole;
  readonly purpose: string;
  readonly legalBases: readonly LegalBasis[];
  readonly dataCategories: readonly string[];
  readonly transferCountry: string | null;
  readonly transferSafeguard: string | null;
  readonly classification: 'declared' | 'undeclared';
  readonly reasons: readonly string[];
  readonly correlationId: string | null;
  /** The notice version the ingest judged it by (metadata `notice`, `noticeVersion`, `noticeSha256`); null: none named. */
  readonly notice: string | null;
  readonly noticeVersion: string | null;
  readonly noticeSha256: string | null;
  /** The personal details as stored: encrypted under the subject's key (or null). */
  readonly details: Buffer | null;
}

export type SubjectDisclosureChange = { readonly kind: 'disclosure'; readonly row: DisclosureRow };

/** Pure: DisclosureRecorded → one row; every other event changes nothing here. */
export function projectSubjectDisclosure(event: Parameters<Projection<SubjectDisclosureChange>['project']>[0]): SubjectDisclosureChange[] {
  if (event.type !== 'DisclosureRecorded') return [];
  const d = event.data;
  return [
    {
      kind: 'disclosure',
      row: {
        eventId: d.eventId,
        subject: d.subject.value,
        position: event.globalPosition,
        occurredAtMicros: d.occurredAt,
        activity: d.activity,
        recipientId: d.recipient.id,
        recipientRole: d.recipient.role,
        purpose: d.purpose,
        legalBases: d.legalBases,
        dataCategories: d.dataCategories,
        transferCountry: d.transfer?.country ?? null,
        transferSafeguard: d.transfer?.safeguard ?? null,
        classification: event.metadata['classification'] === 'undeclared' ? 'undeclared' : 'declared',
        reasons: event.metadata['reasons'] ? event.metadata['reasons'].split(',') : [],
        correlationId: d.correlationId,
        notice: event.metadata['notice'] ?? null,
        noticeVersion: event.metadata['noticeVersion'] ?? null,
        noticeSha256: event.metadata['noticeSha256'] ?? null,
        details: d.personalDetails,
      },
    },
  ];
}

const DDL = [
  `CREATE TABLE IF NOT EXISTS {prefix}subject_disclosures (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    position bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    activity text NOT NULL,
    recipient_id text NOT NULL,
    recipient_role text NOT NULL,
    purpose text NOT NULL,
    legal_bases text[] NOT NULL,
    data_categories text[] NOT NULL,
    transfer_country text,
    transfer_safeguard text,
    classification text NOT NULL,
    reasons text[] NOT NULL,
    correlation_id text,
    details bytea
  )`,
  // Tables made before disclosures named the notice version they were judged by: the columns are added
  // (null in the rows already there, until a rebuild — npm run rebuild -w @sporbar/projections — replays them from the log).
  `ALTER TABLE {prefix}subject_disclosures ADD COLUMN IF NOT EXISTS notice text`,
  `ALTER TABLE {prefix}subject_disclosures ADD COLUMN IF NOT EXISTS notice_version text`,
  `ALTER TABLE {prefix}subject_disclosures ADD COLUMN IF NOT EXISTS notice_sha256 text`,
  `CREATE TABLE IF NOT EXISTS {prefix}subject_recipients (
    subject text NOT NULL,
    recipient_id text NOT NULL,
    recipient_role text NOT NULL,
    activities text[] NOT NULL,
    purposes text[] NOT NULL,
    legal_bases text[] NOT NULL,
    data_categories text[] NOT NULL,
    disclosures bigint NOT NULL,
    undeclared bigint NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (subject, recipient_id)
  )`,
];

// The sorted distinct union. A summary of more than one disclosure already holds one, so when the new
// values are all in it already (the common case) it stays as it is, without re-sorting.
const merge = (column: string) =>
  `${column} = CASE WHEN s.disclosures > 1 AND excluded.${column} <@ s.${column} THEN s.${column}
    ELSE ARRAY(SELECT DISTINCT x FROM unnest(s.${column} || excluded.${column}) AS x ORDER BY x) END`;
/** A summary of several disclosures holds the sorted distinct union, as merging one by one would leave it. */
const union = (column: string) => `CASE WHEN u.n > 1 THEN ARRAY(SELECT DISTINCT x FROM unnest(u.${column}::text[]) AS x ORDER BY x) ELSE u.${column}::text[] END`;

// One statement per batch: every row, from one array per column.
const INSERT_ROWS = `INSERT INTO {prefix}subject_disclosures
  (event_id, subject, position, occurred_at, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories,
   transfer_country, transfer_safeguard, classification, reasons, correlation_id, details, notice, notice_version, notice_sha256)
  SELECT u.event_id, u.subject, u.position, to_timestamp(u.occurred / 1000000), u.activity, u.recipient_id, u.recipient_role, u.purpose,
         u.legal_bases::text[], u.data_categories::text[], u.transfer_country, u.transfer_safeguard, u.classification, u.reasons::text[],
         u.correlation_id, u.details::bytea, u.notice, u.notice_version, u.notice_sha256
    FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::double precision[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                $17::text[], $18::text[], $19::text[])
      AS u(event_id, subject, position, occurred, activity, recipient_id, recipient_role, purpose,
           legal_bases, data_categories, transfer_country, transfer_safeguard, classification, reasons, correlation_id, details,
           notice, notice_version, notice_sha256)
`;

// The batch's new disclosures summed per (subject, recipient) first: each key appears once here.
const UPSERT_SUMMARIES = `INSERT INTO {prefix}subject_recipients AS s
  (subject, recipient_id, recipient_role, activities, purposes, legal_bases, data_categories, disclosures, undeclared, first_at, last_at)
  SELECT u.subject, u.recipient_id, u.recipient_role, ${union('activities')}, ${union('purposes')}, ${union('legal_bases')}, ${union('data_categories')},
         u.n, u.undeclared, to_timestamp(u.first_at / 1000000), to_timestamp(u.last_at / 1000000)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                $10::double precision[], $11::double precision[])
      AS u(subject, recipient_id, recipient_role, activities, purposes, legal_bases, data_categories, n, undeclared, first_at, last_at)
  ON CONFLICT (subject, recipient_id) DO UPDATE SET
    recipient_role = excluded.recipient_role,
    ${merge('activities')}, ${merge('purposes')}, ${merge('legal_bases')}, ${merge('data_categories')},
    disclosures = s.disclosures + excluded.disclosures,
    undeclared = s.undeclared + excluded.undeclared,
    first_at = LEAST(s.first_at, excluded.first_at),
    last_at = GREATEST(s.last_at, excluded.last_at)`;

interface Summary {
  readonly subject: string;
  readonly recipientId: string;
  recipientRole: string;
  /** The first disclosure: a summary of one keeps its arrays as they are (unsorted), as it always has. */
  readonly first: DisclosureRow;
  /** From the second disclosure on: the union of the values (the statement sorts it). */
  sets?: { activities: Set<string>; purposes: Set<string>; legalBases: Set<string>; dataCategories: Set<string> };
  n: number;
  undeclared: number;
  firstAt: number;
  lastAt: number;
}

/** Sums the disclosures of a batch per (subject, recipient), in log order (the last role wins). */
export function summarise(rows: readonly DisclosureRow[]): Summary[] {
  const byKey = new Map<string, Summary>();
  for (const r of rows) {
    const key = `${r.subject}\u0000${r.recipientId}`;
    const s = byKey.get(key);
    const undeclared = r.classification === 'undeclared' ? 1 : 0;
    if (!s) {
      byKey.set(key, { subject: r.subject, recipientId: r.recipientId, recipientRole: r.recipientRole, first: r, n: 1, undeclared, firstAt: r.occurredAtMicros, lastAt: r.occurredAtMicros });
      continue;
    }
    const f = s.first;
    const sets = (s.sets ??= { activities: new Set([f.activity]), purposes: new Set([f.purpose]), legalBases: new Set(f.legalBases), dataCategories: new Set(f.dataCategories) });
    sets.activities.add(r.activity);
    sets.purposes.add(r.purpose);
    for (const x of r.legalBases) sets.legalBases.add(x);
    for (const x of r.dataCategories) sets.dataCategories.add(x);
    s.recipientRole = r.recipientRole;
    s.n++;
    s.undeclared += undeclared;
    if (r.occurredAtMicros < s.firstAt) s.firstAt = r.occurredAtMicros;
    if (r.occurredAtMicros > s.lastAt) s.lastAt = r.occurredAtMicros;
  }
  return [...byKey.values()];
}

const SAVEPOINT = 'subject_disclosures';

/** The summary upsert's parameters for some disclosures. */
function summaryParams(rows: readonly DisclosureRow[]): string[] {
  const values = (s: Summary, first: readonly string[], key: keyof NonNullable<Summary['sets']>) => arrayLiteral(s.sets ? [...s.sets[key]] : first);
  return columns(
    summarise(rows),
    (s) => s.subject,
    (s) => s.recipientId,
    (s) => s.recipientRole,
    (s) => values(s, [s.first.activity], 'activities'),
    (s) => values(s, [s.first.purpose], 'purposes'),
    (s) => values(s, s.first.legalBases, 'legalBases'),
    (s) => values(s, s.first.dataCategories, 'dataCategories'),
    (s) => s.n,
    (s) => s.undeclared,
    (s) => s.firstAt,
    (s) => s.lastAt,
  );
}

/** "Who received my data and why": every disclosure per subject, and a summary per recipient. */
export const subjectDisclosures: Projection<SubjectDisclosureChange> = preparedProjection<SubjectDisclosureChange>({
  name: 'subject-disclosures',
  ddl: DDL,
  indexes: [`CREATE INDEX IF NOT EXISTS {prefix}subject_disclosures_by_subject ON {prefix}subject_disclosures (subject, occurred_at DESC, event_id)`],
  tables: ['subject_disclosures', 'subject_recipients'],
  project: projectSubjectDisclosure,
  prepare(changes, prefix) {
    const rows = changes.map((c) => c.row);
    const insertParams = columns(
      rows,
      (r) => r.eventId,
      (r) => r.subject,
      (r) => r.position,
      (r) => r.occurredAtMicros,
      (r) => r.activity,
      (r) => r.recipientId,
      (r) => r.recipientRole,
      (r) => r.purpose,
      (r) => arrayLiteral(r.legalBases),
      (r) => arrayLiteral(r.dataCategories),
      (r) => r.transferCountry,
      (r) => r.transferSafeguard,
      (r) => r.classification,
      (r) => arrayLiteral(r.reasons),
      (r) => r.correlationId,
      (r) => hexBytes(r.details),
      (r) => r.notice,
      (r) => r.noticeVersion,
      (r) => r.noticeSha256,
    );
    // Every row is new in the usual case (the checkpoint commits with them, and event ids are unique in the log).
    const allNewSummaryParams = summaryParams(rows);
    const insert = withPrefix(INSERT_ROWS, prefix);
    const upsert = withPrefix(UPSERT_SUMMARIES, prefix);
    return async (tx) => {
      // A plain INSERT, without the speculative insertion ON CONFLICT costs. Should a row be there
      // already (a replay), it fails and is undone to the savepoint; then the rows go in with ON
      // CONFLICT DO NOTHING instead, and only the new ones move the summaries.
      await tx.query(`SAVEPOINT ${SAVEPOINT}`);
      let fresh: readonly DisclosureRow[] | undefined;
      try {
        await tx.query(insert, insertParams);
      } catch (err) {
        if ((err as { code?: unknown }).code !== '23505') throw err;
        await tx.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
        const inserted = await tx.query<{ event_id: string }>(`${insert} ON CONFLICT (event_id) DO NOTHING RETURNING event_id::text AS event_id`, insertParams);
        const ids = new Set(inserted.rows.map((r) => r.event_id));
        fresh = rows.filter((r) => ids.delete(r.eventId.toLowerCase()));
      }
      await tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      if (fresh === undefined) await tx.query(upsert, allNewSummaryParams);
      else if (fresh.length > 0) await tx.query(upsert, summaryParams(fresh));
    };
  },
});
