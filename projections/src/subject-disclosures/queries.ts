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

/**
 * The per-recipient summary for one subject (under one or several pseudonyms, after a key rotation),
 * most recent recipients first.
 */
export async function recipientSummaries(db: Sql, subject: string | readonly string[], prefix = 'rm_'): Promise<RecipientSummary[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT subject, recipient_id, recipient_role, activities, purposes, legal_bases, data_categories, disclosures, undeclared, first_at, last_at
       FROM ${prefix}subject_recipients WHERE subject = ANY($1::text[]) ORDER BY last_at DESC, recipient_id`,
    [typeof subject === 'string' ? [subject] : [...subject]],
  );
  // A disclosure made without the consent it needed is stored as declared (the ingest does not know
  // the subject's consents); the compliance alerts decide it (CONSENT_MISSING alone: one that is
  // undeclared for another reason is counted already). The citizen sees both as not covered.
  const { rows: missing } = await db.query<Record<string, unknown>>(
    `SELECT subject, recipient_id, count(*) AS n FROM ${prefix}compliance_alerts
      WHERE subject = ANY($1::text[]) AND reasons = ARRAY['CONSENT_MISSING']::text[] GROUP BY subject, recipient_id`,
    [typeof subject === 'string' ? [subject] : [...subject]],
  );
  const key = (r: Record<string, unknown>) => `${String(r['subject'])}\u0000${String(r['recipient_id'])}`;
  const consentMissing = new Map(missing.map((r) => [key(r), Number(r['n'])]));
  return mergeByRecipient(rows.map((r) => ({
    recipientId: r['recipient_id'] as string,
    recipientRole: r['recipient_role'] as string,
    activities: r['activities'] as string[],
    purposes: r['purposes'] as string[],
    legalBases: r['legal_bases'] as string[],
    dataCategories: r['data_categories'] as string[],
    disclosures: Number(r['disclosures']),
    undeclared: Number(r['undeclared']) + (consentMissing.get(key(r)) ?? 0),
    firstAt: iso(r['first_at']),
    lastAt: iso(r['last_at']),
  })));
}

/** One row per recipient: a subject stored under two pseudonyms has two summaries to fold together. */
function mergeByRecipient(summaries: RecipientSummary[]): RecipientSummary[] {
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  const byRecipient = new Map<string, RecipientSummary>();
  for (const s of summaries) {
    const m = byRecipient.get(s.recipientId);
    byRecipient.set(
      s.recipientId,
      m
        ? {
            ...m,
            activities: union(m.activities, s.activities),
            purposes: union(m.purposes, s.purposes),
            legalBases: union(m.legalBases, s.legalBases),
            dataCategories: union(m.dataCategories, s.dataCategories),
            disclosures: m.disclosures + s.disclosures,
            undeclared: m.undeclared + s.undeclared,
            firstAt: m.firstAt < s.firstAt ? m.firstAt : s.firstAt,
            lastAt: m.lastAt > s.lastAt ? m.lastAt : s.lastAt,
          }
        : s,
    );
  }
  return [...byRecipient.values()].sort((a, b) => (a.lastAt === b.lastAt ? a.recipientId.localeCompare(b.recipientId) : a.lastAt < b.lastAt ? 1 : -1));
}

/** A few subjects that have disclosures (for the embedded default's example query). */
export async function sampleSubjects(db: Sql, limit: number, prefix = 'rm_'): Promise<string[]> {
  const { rows } = await db.query<{ subject: string }>(
    `SELECT subject FROM ${prefix}subject_recipients GROUP BY subject ORDER BY count(*) DESC, subject LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.subject);
}
