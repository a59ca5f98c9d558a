import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '@sporbar/schemas';
import { accessLogPage, allProjections, createReadModelTables, disclosuresPage, fromPglite, type SqlDatabase } from '../src/index.ts';

/** Keyset pagination is exact: every row once, in order, also for rows within one millisecond. */
const SUBJECT = `psn_k1_${'a'.repeat(43)}`;
let pglite: PGlite;
let db: SqlDatabase;

beforeAll(async () => {
  pglite = new PGlite();
  db = fromPglite(pglite);
  await createReadModelTables(db, allProjections(register), 'rm_');
  // 7 rows: four within the same millisecond (µs apart), two on whole milliseconds, one on the same µs as another.
  const at = ['2026-03-01T10:00:00.123001Z', '2026-03-01T10:00:00.123400Z', '2026-03-01T10:00:00.123999Z', '2026-03-01T10:00:00.123500Z', '2026-03-01T10:00:00.124Z', '2026-03-01T10:00:00.122Z', '2026-03-01T10:00:00.123400Z'];
  for (const [i, t] of at.entries()) {
    const id = `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
    await db.query(
      `INSERT INTO rm_subject_disclosures (event_id, subject, position, occurred_at, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories, classification, reasons)
       VALUES ($1, $2, $3, $4::timestamptz, 'mitid-core', 'nets-danid', 'PROCESSOR', 'p', '{}', '{}', 'declared', '{}')`,
      [id, SUBJECT, i + 1, t],
    );
    await db.query(`INSERT INTO rm_access_log (event_id, subject, occurred_at, viewer_id, viewer_role, reason, view) VALUES ($1, $2, $3::timestamptz, 'v', 'CITIZEN', NULL, 'report')`, [id, SUBJECT, t]);
  }
});
afterAll(() => pglite?.close());

async function all<T extends { eventId: string }>(next: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await next(cursor);
    seen.push(...page.items.map((i) => i.eventId));
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe('keyset pagination', () => {
  it('returns every disclosure exactly once, newest first, with pages ending inside one millisecond', async () => {
    const { items: everything } = await disclosuresPage(db, SUBJECT, { limit: 100 });
    expect(everything).toHaveLength(7);
    for (const limit of [1, 2, 3]) {
      const ids = await all((cursor) => disclosuresPage(db, SUBJECT, { limit, ...(cursor ? { cursor } : {}) }));
      expect(ids).toEqual(everything.map((i) => i.eventId));
    }
    // Newest first: .124, then the µs rows of .123 in descending order, then .122.
    expect(everything[0]!.eventId.endsWith('05')).toBe(true);
    expect(everything.at(-1)!.eventId.endsWith('06')).toBe(true);
  });

  it('the access log pages the same way', async () => {
    const ids = await all((cursor) => accessLogPage(db, { subject: SUBJECT, limit: 2, ...(cursor ? { cursor } : {}) }));
    expect(new Set(ids).size).toBe(7);
    expect(ids).toHaveLength(7);
  });

  it('a disclosure the compliance alerts found without consent reads as undeclared with CONSENT_MISSING; the others as stored', async () => {
    const id = '00000000-0000-4000-8000-000000000002';
    await db.query(
      `INSERT INTO rm_compliance_alerts (event_id, position, subject, occurred_at, activity, recipient_id, purpose, reasons, producer)
       VALUES ($1, 2, $2, '2026-03-01T10:00:00.1234Z'::timestamptz, 'mitid-core', 'nets-danid', 'p', ARRAY['CONSENT_MISSING'], NULL)`,
      [id, SUBJECT],
    );
    try {
      const { items } = await disclosuresPage(db, SUBJECT, { limit: 100 });
      expect(items).toHaveLength(7);
      for (const item of items) {
        expect({ classification: item.classification, reasons: item.reasons }, item.eventId)
          .toEqual(item.eventId === id ? { classification: 'undeclared', reasons: ['CONSENT_MISSING'] } : { classification: 'declared', reasons: [] });
      }
    } finally {
      await db.query('DELETE FROM rm_compliance_alerts WHERE event_id = $1', [id]);
    }
  });
});
