import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore } from '../src/index.ts';
import { testEventStore } from './conformance.ts';
import { collect, ids, makeEvents, waitFor } from './support/helpers.ts';
import { randomSchema as randomSchemaName } from './support/postgres.ts';

// One PGlite per file (booting one takes seconds); every test gets its own schema in it.
let shared: PGlite;
beforeAll(async () => {
  shared = await PGlite.create();
});
afterAll(async () => {
  await shared?.close();
});

testEventStore('pglite', async () => {
  const schema = randomSchemaName();
  return {
    open: () => createPgliteEventStore({ db: shared, schema }),
    dispose: async () => {
      await shared.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
});

describe('pglite adapter', () => {
  it('keeps data in a dataDir across close and reopen (idempotency included)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sporbar-pglite-'));
    try {
      const events = makeEvents(20);
      const s1 = await createPgliteEventStore({ dataDir: dir });
      await s1.append('order-1', events.slice(0, 10), { expectedRevision: 'no_stream' });
      await s1.append('order-2', events.slice(10));
      await s1.setStreamMetadata('order-1', { custom: { kept: 'yes' } });
      await s1.close();

      const s2 = await createPgliteEventStore({ dataDir: dir });
      const again = await s2.append('order-1', events.slice(0, 10), { expectedRevision: 'no_stream' });
      expect(again.duplicates).toEqual(ids(events.slice(0, 10)));
      expect(again.nextExpectedRevision).toBe(9n);
      expect(ids(await collect(s2.readAll()))).toEqual(ids(events));
      expect(await s2.headPosition()).toBe(20n);
      expect(await s2.getStreamMetadata('order-1')).toEqual({ custom: { kept: 'yes' } });
      await s2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an in-memory store (no dataDir) works and is private to its instance', async () => {
    const s = await createPgliteEventStore();
    await s.append('x', makeEvents(2));
    expect(await s.headPosition()).toBe(2n);
    await s.close();
    await expect(s.headPosition()).rejects.toMatchObject({ code: 'SPB_ERR_STORE_CLOSED' });
  }, 60_000);

  it('two stores on one shared PGlite: an append through one wakes a subscriber of the other (PGlite LISTEN)', async () => {
    const schema = randomSchemaName();
    const reader = await createPgliteEventStore({ db: shared, schema, pollIntervalMs: 600_000 });
    const writer = await createPgliteEventStore({ db: shared, schema, pollIntervalMs: 600_000 });
    const seen: string[] = [];
    const sub = reader.subscribe((e) => void seen.push(e.eventId));
    const events = makeEvents(4);
    await writer.append('s', events.slice(0, 1));
    await waitFor(() => seen.length === 1, 5_000, 'first event'); // read once, now idle for 600 s
    await writer.append('s', events.slice(1));
    await waitFor(() => seen.length === 4, 5_000, 'wake through LISTEN');
    expect(seen).toEqual(ids(events));
    await sub.stop();
    await reader.close();
    await writer.close();
    expect(shared.closed).toBe(false); // not owned: left open
    await shared.exec(`DROP SCHEMA ${schema} CASCADE`);
  });

  it('refuses db and dataDir together', async () => {
    await expect(createPgliteEventStore({ db: shared, dataDir: '/tmp/x' })).rejects.toThrow('either db or dataDir');
  });
});
