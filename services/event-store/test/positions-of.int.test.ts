import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, createPostgresEventStore, type EventStore } from '../src/index.ts';
import { makeEvents } from './support/helpers.ts';
import { createTestDatabase, dropTestDatabase, probePostgres, randomSchema } from './support/postgres.ts';

/** `positionsOf`: where events are in the global log, by id, on both SQL adapters (the log service's leaf look-up). */
const probe = await probePostgres();

async function check(store: EventStore): Promise<void> {
  const a = makeEvents(3);
  const b = makeEvents(2);
  await store.append('a', a);
  await store.appendMany([{ streamName: 'b', events: b }]);
  const all = [...a, ...b].map((e) => e.eventId);
  const unknown = '0f0f0f0f-0000-4000-8000-000000000000';
  // Upper case, duplicates, an unknown id and a non-uuid: the stored ones answer, by their lower-case id.
  const found = await store.positionsOf!([all[4]!.toUpperCase(), all[0]!, all[0]!, unknown, 'not-a-uuid', ...all.slice(1, 4)]);
  expect([...found.entries()].sort((x, y) => Number(x[1] - y[1]))).toEqual(all.map((id, i) => [id, BigInt(i + 1)]));
  expect((await store.positionsOf!([])).size).toBe(0);
  expect((await store.positionsOf!([unknown])).size).toBe(0);
}

describe('positionsOf', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('pglite', async () => {
    const db = await PGlite.create();
    const store = await createPgliteEventStore({ db, schema: randomSchema() });
    cleanups.push(async () => (await store.close(), await db.close()));
    await check(store);
  });

  it.skipIf(!probe.url)('postgres', async () => {
    const db = await createTestDatabase(probe.url!);
    const store = await createPostgresEventStore({ connectionString: db.url, schema: randomSchema() });
    cleanups.push(async () => (await store.close(), await dropTestDatabase(probe.url!, db.name)));
    await check(store);
  });
});
