import type { LegalBasis, RecipientRole } from '@sporbar/schemas';
import { withPrefix, type Projection } from '../projection.ts';

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
  `CREATE INDEX IF NOT EXISTS {prefix}subject_disclosures_by_subject ON {prefix}subject_disclosures (subject, occurred_at DESC, event_id)`,
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

const merge = (column: string) => `${column} = ARRAY(SELECT DISTINCT x FROM unnest(s.${column} || excluded.${column}) AS x ORDER BY x)`;

const INSERT_ROW = `INSERT INTO {prefix}subject_disclosures
  (event_id, subject, position, occurred_at, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories,
   transfer_country, transfer_safeguard, classification, reasons, correlation_id, details)
  VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000000), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id`;

const UPSERT_SUMMARY = `INSERT INTO {prefix}subject_recipients AS s
  (subject, recipient_id, recipient_role, activities, purposes, legal_bases, data_categories, disclosures, undeclared, first_at, last_at)
  VALUES ($1, $2, $3, ARRAY[$4::text], ARRAY[$5::text], $6::text[], $7::text[], 1, $8, to_timestamp($9::double precision / 1000000), to_timestamp($9::double precision / 1000000))
  ON CONFLICT (subject, recipient_id) DO UPDATE SET
    recipient_role = excluded.recipient_role,
    ${merge('activities')}, ${merge('purposes')}, ${merge('legal_bases')}, ${merge('data_categories')},
    disclosures = s.disclosures + 1,
    undeclared = s.undeclared + excluded.undeclared,
    first_at = LEAST(s.first_at, excluded.first_at),
    last_at = GREATEST(s.last_at, excluded.last_at)`;

/** "Who received my data and why": every disclosure per subject, and a summary per recipient. */
export const subjectDisclosures: Projection<SubjectDisclosureChange> = {
  name: 'subject-disclosures',
  ddl: DDL,
  tables: ['subject_disclosures', 'subject_recipients'],
  project: projectSubjectDisclosure,
  async apply(tx, changes, prefix) {
    const insertRow = withPrefix(INSERT_ROW, prefix);
    const upsertSummary = withPrefix(UPSERT_SUMMARY, prefix);
    for (const { row: r } of changes) {
      const inserted = await tx.query(insertRow, [
        r.eventId,
        r.subject,
        r.position.toString(),
        r.occurredAtMicros,
        r.activity,
        r.recipientId,
        r.recipientRole,
        r.purpose,
        r.legalBases,
        r.dataCategories,
        r.transferCountry,
        r.transferSafeguard,
        r.classification,
        r.reasons,
        r.correlationId,
        r.details,
      ]);
      // The summary moves only when the row is new: a replayed event changes nothing.
      if (inserted.rows.length === 0) continue;
      await tx.query(upsertSummary, [
        r.subject,
        r.recipientId,
        r.recipientRole,
        r.activity,
        r.purpose,
        r.legalBases,
        r.dataCategories,
        r.classification === 'undeclared' ? 1 : 0,
        r.occurredAtMicros,
      ]);
    }
  },
};
