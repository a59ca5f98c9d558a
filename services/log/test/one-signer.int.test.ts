import { afterAll, describe, expect, it } from 'vitest';
import { CompactRange, verifyTreeHead } from '@sporbar/auditor';
import type { EventStore } from '@sporbar/event-store';
import {
  ORIGIN,
  appendDisclosures,
  checkpointKeyFiles,
  createTestDatabase,
  dropTestDatabase,
  getJson,
  logEnv,
  metricsOf,
  openStore,
  probePostgres,
  sample,
  startLogProcess,
  storedCheckpoints,
  waitFor,
  type LogProcess,
} from './support.ts';

/**
 * One signer for the whole log: two log-service processes on one database, one PostgreSQL advisory
 * lock. Only the lock holder signs; both serve reads; kill -9 the signer and the standby takes over;
 * every stored checkpoint verifies, has a size of its own, and its root is the tree's at that size.
 */
const pgProbe = await probePostgres();

describe.skipIf(!pgProbe.url)('two log-service instances, one signer', () => {
  const processes: LogProcess[] = [];
  let db: { name: string; url: string } | undefined;
  let store: EventStore | undefined;
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await store?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (process.env['DEBUG_LOG']) console.log(processes.flatMap((p) => p.output).join(''));
  });

  it('only the lock holder signs; after kill -9 the other takes over; all checkpoints verify', async () => {
    db = await createTestDatabase(pgProbe.url!);
    store = await openStore(db.url);
    const key = checkpointKeyFiles();
    const env = logEnv(db.url, key.keyFile);
    const a = startLogProcess(env, 'a');
    const b = startLogProcess(env, 'b');
    processes.push(a, b);
    const bases = await Promise.all([a.ready, b.ready]);
    const signers = async () => Promise.all(bases.map(async (base) => sample(await metricsOf(base), 'sporbar_log_signer')));
    // Both hold a lease attempt within a second; exactly one wins.
    await waitFor(async () => (await signers()).reduce((x, y) => x! + y!, 0) === 1, 20_000, 'one signer');
    await appendDisclosures(store, 0, 10);
    for (const base of bases) {
      await waitFor(async () => {
        const r = await getJson<{ treeSize: number }>(`${base}/v1/log/checkpoint`);
        return r.status === 200 && r.body.treeSize >= 10;
      }, 20_000, `a checkpoint served by ${base}`);
    }
    const [sa, sb] = await signers();
    expect(sa! + sb!).toBe(1);
    const leader = sa === 1 ? a : b;
    const standby = sa === 1 ? b : a;
    const standbyBase = sa === 1 ? bases[1]! : bases[0]!;
    expect(sample(await metricsOf(standbyBase), 'sporbar_log_checkpoints_signed_total')).toBe(0);
    // The standby serves reads all along.
    expect((await getJson(`${standbyBase}/ready`)).status).toBe(200);

    leader.child.kill('SIGKILL');
    await leader.exited;
    // PostgreSQL ends the dead session and frees its lock; the standby takes it within its retry.
    await waitFor(async () => sample(await metricsOf(standbyBase), 'sporbar_log_signer') === 1, 30_000, 'the standby to take over');
    await appendDisclosures(store, 10, 5);
    await waitFor(async () => {
      const r = await getJson<{ treeSize: number }>(`${standbyBase}/v1/log/checkpoint`);
      return r.body.treeSize >= 16; // 10 events, at least one checkpoint, 5 more
    }, 20_000, 'a checkpoint by the new signer');
    expect(sample(await metricsOf(standbyBase), 'sporbar_log_checkpoints_signed_total')).toBeGreaterThanOrEqual(1);
    expect(standby.child.exitCode).toBeNull();

    // Every checkpoint in the store: verifies, one per size, sizes growing, root = the tree's root at that size.
    const checkpoints = await storedCheckpoints(store);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const sizes = checkpoints.map((c) => c.event.treeSize);
    expect(new Set(sizes).size).toBe(sizes.length);
    expect([...sizes].sort((x, y) => x - y)).toEqual(sizes);
    const roots = new Map<number, string>();
    const range = new CompactRange();
    for await (const e of store.readAll()) {
      range.appendLeaf(e.data);
      roots.set(range.size, range.root().toString('base64'));
    }
    for (const c of checkpoints) {
      expect(verifyTreeHead(c.text, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
      expect(c.event.rootHash.toString('base64')).toBe(roots.get(c.event.treeSize));
      expect(c.position).toBeGreaterThan(BigInt(c.event.treeSize)); // signed after the leaves it covers
    }
  });
});
