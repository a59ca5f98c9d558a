import type { Sql } from '../sql.ts';

export interface RecipientSummary {
  readonly recipientId: string;
  readonly recipientRole: string;
  readonly activities: string[];
  readonly purposes: string[];
  readonly legalBases: string[];
  readonly dataCategories: string[];
  readonly disclosures: number;
  readonly undeclared: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

const iso = (d: unknown): string => (d instanceof Date ? d : new Date(String(d))).toISOString();

/** The per-recipient summary for one subject, most recent recipients first. */
export async function recipientSummaries(db: Sql, subject: string, prefix = 'rm_'): Promise<RecipientSummary[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT recipient_id, recipient_role, activities, purposes, legal_bases, data_categories, disclosures, undeclared, first_at, last_at
       FROM ${prefix}subject_recipients WHERE subject = $1 ORDER BY last_at DESC, recipient_id`,
    [subject],
  );
  return rows.map((r) => ({
    recipientId: r['recipient_id'] as string,
    recipientRole: r['recipient_role'] as string,
    activities: r['activities'] as string[],
    purposes: r['purposes'] as string[],
    legalBases: r['legal_bases'] as string[],
    dataCategories: r['data_categories'] as string[],
    disclosures: Number(r['disclosures']),
    undeclared: Number(r['undeclared']),
    firstAt: iso(r['first_at']),
    lastAt: iso(r['last_at']),
  }));
}

/** A few subjects that have disclosures (for the embedded default's example query). */
export async function sampleSubjects(db: Sql, limit: number, prefix = 'rm_'): Promise<string[]> {
  const { rows } = await db.query<{ subject: string }>(
    `SELECT subject FROM ${prefix}subject_recipients GROUP BY subject ORDER BY count(*) DESC, subject LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.subject);
}
