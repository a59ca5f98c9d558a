import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore } from '@sporbar/event-store';
import { allProjections, createProjectionRunner, fromPglite, type ProjectionRunner, type SqlDatabase } from '@sporbar/projections';
import { register } from '@sporbar/schemas';
import { storeLogSource } from '../src/log/source.ts';
import { diffReadModels, formatDiff, replay } from '../src/replay.ts';
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
