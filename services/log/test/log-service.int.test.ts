import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactRange, leafHash, verifyConsistency, verifyInclusion, verifyTreeHead } from '@sporbar/auditor';
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
 * `sporbar-log` as a real process on a fresh PostgreSQL database, the events appended with the
 * PostgreSQL event store adapter: checkpoints within the interval, /v1/log/* answers with proofs that
 * verify under RFC 9162, health, readiness and metrics, and a last checkpoint at SIGTERM.
 */
const pgProbe = await probePostgres();
const b64 = (s: string) => Buffer.from(s, 'base64');

type Checkpoint = { treeSize: number; rootHash: string; checkpoint: string; keyId: string };
type Proof = { eventId: string; leafIndex: number; treeSize: number; leafHash: string; rootHash: string; proof: string[] };

describe.skipIf(!pgProbe.url)('the log service process', () => {
  const processes: LogProcess[] = [];
  const databases: string[] = [];
  const stores: EventStore[] = [];
  const key = checkpointKeyFiles();

  const fresh = async () => {
    const db = await createTestDatabase(pgProbe.url!);
    databases.push(db.name);
    const store = await openStore(db.url);
    stores.push(store);
    return { db, store };
  };
  const start = (env: Record<string, string>) => {
    const p = startLogProcess(env);
    processes.push(p);
    return p;
  };

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    for (const s of stores) await s.close();
    for (const name of databases) await dropTestDatabase(pgProbe.url!, name);
    if (process.env['DEBUG_LOG']) console.log(processes.flatMap((p) => p.output).join(''));
  });

  describe('signing every interval and serving /v1/log/*', () => {
    let base: string;
    let store: EventStore;
    let ids: string[];
    beforeAll(async () => {
      const f = await fresh();
      store = f.store;
      ids = await appendDisclosures(store, 0, 7);
      base = await start(logEnv(f.db.url, key.keyFile)).ready;
    });

    it('signs a checkpoint of the stored events within the interval, which verifies under the key it serves', async () => {
      const cp = await waitFor(async () => {
        const r = await getJson<Checkpoint>(`${base}/v1/log/checkpoint`);
        return r.status === 200 && r.body.treeSize >= 7 ? r.body : undefined;
      }, 20_000, 'a checkpoint of 7 events');
      const served = (await getJson<{ publicKeyPem: string; keyId: string; origin: string }>(`${base}/v1/log/key`)).body;
      expect(served.origin).toBe(ORIGIN);
      expect(served.publicKeyPem.trim()).toBe(key.publicKeyPem.trim());
      expect(verifyTreeHead(cp.checkpoint, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
      // The root is the RFC 9162 root of exactly the stored bytes.
      const range = new CompactRange();
      let n = 0;
      for await (const e of store.readAll()) if (n++ < cp.treeSize) range.appendLeaf(e.data);
      expect(range.root().toString('base64')).toBe(cp.rootHash);
    });

    it('inclusion proofs, one or a batch, verify against the checkpoint; unknown events are pending', async () => {
      const cp = (await getJson<Checkpoint>(`${base}/v1/log/checkpoint`)).body;
      const stored = new Map<string, Uint8Array>();
      for await (const e of store.readAll()) stored.set(e.eventId, e.data);
      const one = await getJson<Proof>(`${base}/v1/log/proof/inclusion?eventId=${ids[3]}`);
      expect(one.status).toBe(200);
      expect(b64(one.body.leafHash).equals(leafHash(stored.get(ids[3]!)!))).toBe(true);
      expect(verifyInclusion(one.body.leafIndex, cp.treeSize, b64(one.body.leafHash), one.body.proof.map(b64), b64(cp.rootHash))).toBe(true);

      const unknown = '0f0f0f0f-0000-4000-8000-000000000000';
      const batch = await getJson<{ checkpoint: Checkpoint; treeSize: number; proofs: Proof[]; pending: string[] }>(`${base}/v1/log/proof/inclusions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ eventIds: [...ids, unknown] }),
      });
      expect(batch.status).toBe(200);
      expect(batch.body.pending).toEqual([unknown]);
      expect(batch.body.proofs.map((p) => p.eventId)).toEqual(ids);
      for (const p of batch.body.proofs) {
        expect(b64(p.leafHash).equals(leafHash(stored.get(p.eventId)!))).toBe(true);
        expect(verifyInclusion(p.leafIndex, batch.body.treeSize, b64(p.leafHash), p.proof.map(b64), b64(batch.body.checkpoint.rootHash))).toBe(true);
      }
      // More than 100 at once is refused.
      const tooMany = await getJson(`${base}/v1/log/proof/inclusions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventIds: Array(101).fill(unknown) }) });
      expect(tooMany.status).toBe(400);
    });

    it('the next checkpoint is consistent with the last one (RFC 9162 consistency proof)', async () => {
      const first = (await getJson<Checkpoint>(`${base}/v1/log/checkpoint`)).body;
      await appendDisclosures(store, 100, 5);
      const second = await waitFor(async () => {
        const r = await getJson<Checkpoint>(`${base}/v1/log/checkpoint`);
        return r.body.treeSize >= first.treeSize + 5 ? r.body : undefined;
      }, 20_000, 'a later checkpoint');
      expect(verifyTreeHead(second.checkpoint, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
      const c = await getJson<{ fromRoot: string; toRoot: string; proof: string[] }>(`${base}/v1/log/proof/consistency?from=${first.treeSize}&to=${second.treeSize}`);
      expect(c.status).toBe(200);
      expect(c.body.fromRoot).toBe(first.rootHash);
      expect(verifyConsistency(first.treeSize, second.treeSize, b64(first.rootHash), b64(second.rootHash), c.body.proof.map(b64))).toBe(true);
    });

    it('answers /health, /ready (store reachable, tree caught up) and /metrics', async () => {
      expect((await getJson(`${base}/health`)).status).toBe(200);
      const ready = await waitFor(async () => {
        const r = await getJson<{ status: string; signer: boolean }>(`${base}/ready`);
        return r.status === 200 ? r.body : undefined;
      }, 10_000, 'ready');
      expect(ready).toMatchObject({ status: 'ready', store: 'ok', signer: true });
      const text = await waitFor(async () => {
        const m = await metricsOf(base);
        return sample(m, 'sporbar_log_uncovered_events') === 0 ? m : undefined;
      }, 20_000, 'everything covered');
      expect(sample(text, 'sporbar_log_signer')).toBe(1);
      expect(sample(text, 'sporbar_log_tree_size')).toBeGreaterThanOrEqual(14);
      expect(sample(text, 'sporbar_log_checkpoint_size')).toBeGreaterThanOrEqual(12);
      expect(sample(text, 'sporbar_log_checkpoint_age_seconds')).toBeLessThan(60);
      expect(sample(text, 'sporbar_log_signing_failures_total')).toBe(0);
      expect(sample(text, 'sporbar_log_checkpoints_signed_total')).toBeGreaterThanOrEqual(2);
      // The signer's checkpointer has read the log (caught up): the same leaves as the served tree.
      expect(sample(text, 'sporbar_log_signer_tree_size')).toBe(sample(text, 'sporbar_log_tree_size'));
      expect(sample(text, 'sporbar_log_subject_map_commitments_total')).toBeGreaterThanOrEqual(0);
    });
  });

  it('signs a last checkpoint at SIGTERM and exits 0', async () => {
    const { db, store } = await fresh();
    // An interval and a count it will not reach: only the shutdown can sign.
    const p = start(logEnv(db.url, key.keyFile, { SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '3600', SPORBAR_CHECKPOINT_EVERY_EVENTS: '100000' }));
    const base = await p.ready;
    await waitFor(async () => (await getJson<{ signer: boolean }>(`${base}/ready`)).body.signer === true, 20_000, 'the signer lock');
    await appendDisclosures(store, 0, 3);
    await waitFor(async () => (await getJson<{ treeSize: number }>(`${base}/ready`)).body.treeSize === 3, 20_000, 'three leaves');
    expect(await storedCheckpoints(store)).toEqual([]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const checkpoints = await storedCheckpoints(store);
    expect(checkpoints.map((c) => c.event.treeSize)).toEqual([3]);
    expect(verifyTreeHead(checkpoints[0]!.text, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
  });
});
