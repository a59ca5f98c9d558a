import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore } from '@sporbar/event-store';
import { allProjections, createProjectionRunner, fromPglite, type ProjectionRunner, type SqlDatabase } from '@sporbar/projections';
import { register } from '@sporbar/schemas';
import { storeLogSource } from '../src/log/source.ts';
import { diffReadModels, diffScope, formatDiff, ORDERED_ARRAY_COLUMNS, replay, SET_COLUMNS } from '../src/replay.ts';
import { appendDisclosures, codec } from './support.ts';

// The embedded layout: one PGlite holds the event store (schema sporbar) and the live read models (rm_*).
const projections = allProjections(register);
let live: PGlite;
let db: SqlDatabase;
let store: EventStore;
let runner: ProjectionRunner;
let scratch: PGlite;

beforeAll(async () => {
  live = await PGlite.create();
  db = fromPglite(live);
  store = await createPgliteEventStore({ db: live });
  runner = createProjectionRunner({ store, db, codec, projections, idleFlushMs: 5 });
  await runner.start();
  scratch = await PGlite.create();
});
afterAll(async () => {
  await runner?.stop();
  await store?.close();
  await live?.close();
  await scratch?.close();
});

const settle = async () => runner.waitFor(await store.headPosition());
const source = () => storeLogSource(store);

describe('replay and diff', () => {
  let savedAt: Date;
  let savedPosition: bigint;

  it('replay --at a past time equals the read model saved at that time', async () => {
    await appendDisclosures(store, 0, 25);
    await settle();
    // Save a copy of every live read-model table as it is now.
    for (const p of projections) for (const t of p.tables) await db.query(`CREATE TABLE rm_saved_${t} AS SELECT * FROM rm_${t}`);
    savedAt = new Date();
    savedPosition = await store.headPosition();
    await new Promise((r) => setTimeout(r, 30));
    await appendDisclosures(store, 25, 12);
    await settle();

    const r = await replay({ source: source(), codec, into: fromPglite(scratch), at: { time: savedAt } });
    expect(r).toMatchObject({ events: 25, position: savedPosition });
    const same = await diffReadModels({ replayed: fromPglite(scratch), live: db, livePrefix: 'rm_saved_' });
    expect(same.differences, formatDiff(same)).toEqual([]);
    expect(same.tables.find((t) => t.table === 'subject_disclosures')).toMatchObject({ replayed: 25, live: 25 });

    // The same point given as a position.
    const byPosition = await replay({ source: source(), codec, into: fromPglite(scratch), at: { position: savedPosition } });
    expect(byPosition.events).toBe(25);
    expect((await diffReadModels({ replayed: fromPglite(scratch), live: db, livePrefix: 'rm_saved_' })).differences).toEqual([]);
  });

  it('diff lists what the live read model has beyond the replayed point', async () => {
    const d = await diffReadModels({ replayed: fromPglite(scratch), live: db });
    const disclosures = d.differences.filter((x) => x.table === 'subject_disclosures');
    expect(disclosures).toHaveLength(12);
    expect(disclosures.every((x) => x.kind === 'extra')).toBe(true);
    expect(d.differences.some((x) => x.table === 'subject_recipients' && x.kind === 'changed')).toBe(true);
  });

  it('diff at T compares like with like: only the events the log held at T; later ones are "not yet in the log at T"', async () => {
    const head = await store.headPosition();
    const scope = await diffScope(source(), { replayedAt: savedPosition, liveAt: head, label: `T (position ${savedPosition})` });
    const d = await diffReadModels({ replayed: fromPglite(scratch), live: db, scope });
    expect(d.differences, formatDiff(d)).toEqual([]);
    expect(d.tables.find((t) => t.table === 'subject_disclosures')).toMatchObject({ replayed: 25, live: 25, differences: 0, notYetInLog: 12 });
    expect(d.tables.find((t) => t.table === 'subject_recipients')!.skipped).toContain(`the replay stops at position ${savedPosition} while the live read model stands at position ${head}`);
    const text = formatDiff(d);
    expect(text).toContain(`subject_disclosures: replayed 25 row(s), live 25, 0 difference(s); 12 live row(s) for events not yet in the log at T (position ${savedPosition}), not compared`);
    expect(text).not.toContain('does not produce');
    // A live row for an event the log does not hold at all is a difference, and said so.
    const forged = '00000000-0000-4000-8000-00000000f00d';
    await db.query(`INSERT INTO rm_subject_disclosures SELECT $1::uuid, subject, position, occurred_at, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories,
      transfer_country, transfer_safeguard, classification, reasons, correlation_id, details FROM rm_subject_disclosures LIMIT 1`, [forged]);
    try {
      const withForged = await diffReadModels({ replayed: fromPglite(scratch), live: db, scope });
      expect(withForged.differences).toEqual([{ table: 'subject_disclosures', kind: 'unknown-event', key: { event_id: forged } }]);
      expect(formatDiff(withForged)).toContain(`subject_disclosures {"event_id":"${forged}"}: extra in the live read model: no event in the log produces it`);
    } finally {
      await db.query('DELETE FROM rm_subject_disclosures WHERE event_id = $1', [forged]);
    }
  });

  it('set-valued columns are compared as sets; every array column of the read models is declared one way or the other', async () => {
    await replay({ source: source(), codec, into: fromPglite(scratch), at: { position: await store.headPosition() } });
    const { rows } = await db.query<{ event_id: string }>('SELECT event_id FROM rm_subject_disclosures ORDER BY event_id LIMIT 1');
    const id = rows[0]!.event_id;
    await db.query('UPDATE rm_subject_disclosures SET legal_bases = ARRAY(SELECT x FROM unnest(legal_bases) WITH ORDINALITY AS u(x, i) ORDER BY i DESC) WHERE event_id = $1', [id]);
    const scope = await diffScope(source(), { replayedAt: await store.headPosition(), liveAt: await store.headPosition(), label: 'the head' });
    expect((await diffReadModels({ replayed: fromPglite(scratch), live: db, scope })).differences).toEqual([]);
    await db.query(`UPDATE rm_subject_disclosures SET data_categories = ARRAY['health'] WHERE event_id = $1`, [id]);
    const d = await diffReadModels({ replayed: fromPglite(scratch), live: db, scope });
    expect(d.differences).toEqual([{ table: 'subject_disclosures', kind: 'changed', key: { event_id: id }, columns: { data_categories: [['transaction-history'], ['health']] } }]);
    await db.query(`UPDATE rm_subject_disclosures SET data_categories = ARRAY['transaction-history'], legal_bases = ARRAY['LBK_494_2023', 'GDPR_ART6_1_E'] WHERE event_id = $1`, [id]);
    const arrays = await fromPglite(scratch).query<{ column_name: string }>(
      `SELECT DISTINCT column_name FROM information_schema.columns WHERE table_name LIKE 'rm\\_%' AND data_type = 'ARRAY' ORDER BY 1`,
    );
    expect(arrays.rows.length).toBeGreaterThan(0);
    for (const { column_name } of arrays.rows) expect(SET_COLUMNS.has(column_name) || ORDERED_ARRAY_COLUMNS.has(column_name), column_name).toBe(true);
  });

  it('diff names every row a tampered live read model gets wrong', async () => {
    await replay({ source: source(), codec, into: fromPglite(scratch), at: { position: await store.headPosition() } });
    expect((await diffReadModels({ replayed: fromPglite(scratch), live: db })).differences).toEqual([]);
    const { rows } = await db.query<{ event_id: string }>('SELECT event_id FROM rm_subject_disclosures ORDER BY event_id LIMIT 2');
    await db.query('DELETE FROM rm_subject_disclosures WHERE event_id = $1', [rows[0]!.event_id]);
    await db.query(`UPDATE rm_subject_disclosures SET purpose = 'marketing' WHERE event_id = $1`, [rows[1]!.event_id]);
    const d = await diffReadModels({ replayed: fromPglite(scratch), live: db });
    expect(d.differences).toEqual([
      { table: 'subject_disclosures', kind: 'missing', key: { event_id: rows[0]!.event_id } },
      { table: 'subject_disclosures', kind: 'changed', key: { event_id: rows[1]!.event_id }, columns: { purpose: ['nemkonto-payments', 'marketing'] } },
    ]);
    expect(formatDiff(d)).toContain(`subject_disclosures {"event_id":"${rows[1]!.event_id}"}: changed purpose: replayed "nemkonto-payments" ≠ live "marketing"`);
  });

  it('refuses to replay into a database that holds an event store', async () => {
    await expect(replay({ source: source(), codec, into: db, at: { position: 1n } })).rejects.toThrow(/events table/);
  });
});
