import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, migrations, type EventStore } from '../src/index.ts';
import { testEventStore } from './conformance.ts';
import { collect, expectSporbarError, ids, makeEvents, waitFor } from './support/helpers.ts';
import { createTestDatabase, dropTestDatabase, probePostgres, randomSchema, sql } from './support/postgres.ts';

// Top-level: decides skip (laptop) or throw (CI=true) before any test is registered.
const probe = await probePostgres();
let db: { name: string; url: string };

beforeAll(async () => {
  if (probe.url) db = await createTestDatabase(probe.url);
});
afterAll(async () => {
  if (probe.url && db) await dropTestDatabase(probe.url, db.name);
});

// Every test gets its own schema in this file's database; open() = a new pool (a process restart).
testEventStore(
  'postgres',
  async () => {
    const schema = randomSchema();
    return {
      open: () => createPostgresEventStore({ connectionString: db.url, schema }),
      dispose: async () => void (await sql(db.url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
    };
  },
  probe.skip ? { skip: probe.skip } : {},
);

describe.skipIf(!probe.url)('postgres adapter', () => {
  const stores: EventStore[] = [];
  const open = async (options: Partial<Parameters<typeof createPostgresEventStore>[0]> & { schema: string }) => {
    const s = await createPostgresEventStore({ connectionString: db.url, ...options });
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('a writer that commits late is never skipped: position order is commit order', async () => {
    const schema = randomSchema();
    const store = await open({ schema });
    await store.append('warm-up', makeEvents(1));
    // Writer A: an append inside a transaction that stays open (it holds the position lock).
    const a = new pg.Client({ connectionString: db.url });
    await a.connect();
    await a.query('BEGIN');
    const slow = makeEvents(2);
    await a.query(`SELECT * FROM ${schema}.append('slow', 'any', $1::uuid[], $2::text[], $3::bytea, $4::int[], $5::jsonb[])`, [
      ids(slow),
      slow.map((e) => e.type),
      Buffer.concat(slow.map((e) => e.data)),
      slow.map((e) => e.data.byteLength),
      slow.map(() => '{}'),
    ]);
    // Writer B starts later and would commit first with a plain sequence. Here it has to wait.
    const fast = makeEvents(3);
    let bDone = false;
    const b = store.append('fast', fast).then((r) => ((bDone = true), r));
    const locked = async () =>
      (await sql<{ n: string }>(db.url, `SELECT count(*)::text AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1`, [db.name]))[0]!.n === '1';
    await waitFor(locked, 10_000, 'writer B waiting on the position lock');
    // A reader now sees neither A nor B: nothing beyond the warm-up, so no checkpoint can jump ahead.
    expect(ids(await collect(store.readAll({ after: 1n })))).toEqual([]);
    expect(await store.headPosition()).toBe(1n);
    expect(bDone).toBe(false);
    await a.query('COMMIT');
    await a.end();
    const rb = await b;
    const log = await collect(store.readAll({ after: 1n }));
    expect(ids(log)).toEqual([...ids(slow), ...ids(fast)]);
    expect(log.map((e) => e.globalPosition)).toEqual([2n, 3n, 4n, 5n, 6n]);
    expect(rb.lastPosition).toBe(6n);
  });

  it('a rolled-back append leaves no gap', async () => {
    const schema = randomSchema();
    const store = await open({ schema });
    await store.append('s', makeEvents(1));
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('BEGIN');
    await c.query(`SELECT * FROM ${schema}.append('s', 'any', $1::uuid[], '{T}'::text[], '\\x00'::bytea, '{1}'::int[], '{"{}"}'::jsonb[])`, [ids(makeEvents(1))]);
    await c.query('ROLLBACK');
    await c.end();
    await store.append('s', makeEvents(1));
    expect((await collect(store.readAll())).map((e) => e.globalPosition)).toEqual([1n, 2n]);
  });

  it('migrations run once when several processes start at the same time', async () => {
    const schema = randomSchema();
    const started = await Promise.all([0, 1, 2, 3].map(() => open({ schema })));
    const rows = await sql<{ version: number }>(db.url, `SELECT version FROM ${schema}.migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    await started[0]!.append('s', makeEvents(2));
    expect(await started[3]!.headPosition()).toBe(2n);
  });

  it('LISTEN/NOTIFY wakes a subscriber in another process (no polling)', async () => {
    const schema = randomSchema();
    const reader = await open({ schema, pollIntervalMs: 600_000 });
    const writer = await open({ schema });
    const seen: string[] = [];
    const sub = reader.subscribe((e) => void seen.push(e.eventId));
    const events = makeEvents(4);
    await writer.append('s', events.slice(0, 1));
    await waitFor(() => seen.length === 1, 10_000, 'first event');
    await writer.append('s', events.slice(1));
    await waitFor(() => seen.length === 4, 10_000, 'woken by NOTIFY');
    expect(seen).toEqual(ids(events));
    await sub.stop();
  });

  it('appendMany on one connection stays right call after call (its plans are cached for the session)', async () => {
    const store = await open({ schema: randomSchema(), poolSize: 1 });
    let previous: ReturnType<typeof makeEvents> = [];
    let expectedHead = 0n;
    for (let round = 0; round < 12; round++) {
      const fresh = makeEvents(30);
      // a third of the batch re-sent from the round before (stored duplicates), one repeated within the batch
      const resent = previous.slice(0, 10);
      const requests = [0, 1, 2].map((k) => ({ streamName: `plan-${k}`, events: [...fresh.slice(k * 10, k * 10 + 10), ...resent.filter((_, i) => i % 3 === k)] }));
      requests[2]!.events.push(fresh[5]!); // in-batch duplicate of an event of plan-0 (the first occurrence wins)
      const results = await store.appendMany(requests);
      expect(results.reduce((n, r) => n + r.appended.length, 0)).toBe(30);
      expect(results.reduce((n, r) => n + r.duplicates.length, 0)).toBe(resent.length + 1);
      expectedHead += 30n;
      expect(await store.headPosition()).toBe(expectedHead);
      previous = fresh;
    }
    for (const k of [0, 1, 2]) {
      const stream = await collect(store.readStream(`plan-${k}`));
      expect(stream.map((e) => e.streamRevision)).toEqual(stream.map((_, i) => BigInt(i)));
      expect(stream).toHaveLength(120);
    }
  });

  it('accepts an existing pool and leaves it open on close()', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    const store = await createPostgresEventStore({ pool, schema: randomSchema() });
    await store.append('s', makeEvents(1));
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await pool.end();
  });

  it('an unreachable server is SPB_ERR_STORE_UNAVAILABLE after the retries', async () => {
    const err = await expectSporbarError(
      createPostgresEventStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none', retry: { maxAttempts: 2, initialDelayMs: 1 } }),
      'SPB_ERR_STORE_UNAVAILABLE',
    );
    expect(err.retriable).toBe(true);
  });
});
