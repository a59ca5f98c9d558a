import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointSigned, DisclosureRecorded, SubjectMapCommitted } from '@sporbar/schemas';
import { ORIGIN_METADATA_KEY } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey } from '../src/checkpoint/signed-tree-head.ts';
import { createCheckpointer, type Checkpointer } from '../src/checkpointer.ts';
import { createLogService } from '../src/log-service.ts';
import { CHECKPOINT_STREAM } from '../src/log/source.ts';
import { leafHash } from '../src/merkle/rfc9162.ts';
import { SUBJECT_MAP_STREAM, auditMapCommitments, checkSubjectList, decodeMapProof, mapLeafReader, subjectMapCommitmentId, subjectMapKeys, verifyMapProof, type LogLeaf } from '../src/map/index.ts';
import { ORIGIN, appendDisclosures, codec, pgliteTestLog, waitFor, type TestLog } from './support.ts';

/**
 * The subject map wired into the log: the checkpointer commits map roots as SubjectMapCommitted
 * leaves and signs a checkpoint covering each; the log service follows, checks each commitment
 * against its own recomputation once a checkpoint covers it, and proves a subject's leaves there.
 */
let pglite: PGlite;
beforeAll(async () => {
  pglite = await PGlite.create();
});
afterAll(async () => {
  await pglite?.close();
});

const key = generateSigningKey();
const mapKey = randomBytes(32);
const keys = subjectMapKeys(mapKey);
const read = mapLeafReader(codec);

interface Leaf {
  readonly data: Uint8Array;
  readonly eventId: string;
  readonly type: string;
}
async function leavesOf(log: TestLog): Promise<Leaf[]> {
  const out: Leaf[] = [];
  for await (const e of log.store.readAll()) out.push({ data: e.data, eventId: e.eventId, type: e.type });
  return out;
}
const commitmentsIn = async (log: TestLog) => (await leavesOf(log)).filter((l) => l.type === 'SubjectMapCommitted').map((l) => codec.decode(l.data).event as SubjectMapCommitted);
const checkpointSizes = async (log: TestLog) => (await leavesOf(log)).filter((l) => l.type === 'CheckpointSigned').map((l) => (codec.decode(l.data).event as CheckpointSigned).treeSize);

/** The subject's disclosure leaves in the log as (logIndex, leafHash, eventId), read from the store itself. */
async function subjectLeaves(log: TestLog, pseudonym: string, below: number) {
  return (await leavesOf(log))
    .map((l, logIndex) => ({ l, logIndex }))
    .filter(({ l, logIndex }) => {
      const r = read(l.data);
      return logIndex < below && r.kind === 'disclosure' && r.pseudonym === pseudonym;
    })
    .map(({ l, logIndex }) => ({ logIndex, leafHash: leafHash(l.data), eventId: l.eventId }));
}

describe('subject map in the checkpointer and the log service (PGlite)', () => {
  const running: Checkpointer[] = [];
  const start = async (log: TestLog, map: { everyEvents?: number; everyMs?: number } = {}) => {
    const c = createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, everyEvents: 5, everyMs: 60_000, subjectMap: { keys, everyEvents: 6, everyMs: 60_000, ...map }, onError: (e) => console.error(e) });
    await c.start();
    running.push(c);
    return c;
  };
  const stopAll = async () => {
    for (const c of running.splice(0)) await c.stop();
  };

  it('commits the map as a leaf, covers it by a checkpoint at once, and the log service proves each subject there', async () => {
    const log = await pgliteTestLog(pglite);
    try {
      const c = await start(log);
      await appendDisclosures(log.store, 0, 14);
      // 6 disclosures waiting → a commitment; the checkpointer then signs a checkpoint that covers it.
      await waitFor(async () => {
        const cms = await commitmentsIn(log);
        const leaves = await leavesOf(log);
        const at = leaves.findIndex((l) => l.type === 'SubjectMapCommitted');
        return cms.length >= 1 && (await checkpointSizes(log)).some((s) => s > at);
      });
      const commitments = await commitmentsIn(log);
      for (const cm of commitments) expect(cm.eventId).toBe(subjectMapCommitmentId(ORIGIN, cm.treeSize));
      expect(c.treeSize).toBeGreaterThan(14);

      // The auditor's recomputation from the log alone (and the key) agrees with every commitment.
      const all = await leavesOf(log);
      const logLeaves: LogLeaf[] = all.map((l, logIndex) => {
        const r = read(l.data);
        return { logIndex, leafHash: leafHash(l.data), index: r.kind === 'disclosure' ? keys.indexOf(r.pseudonym) : null };
      });
      const audit = auditMapCommitments(logLeaves, commitments.map((cm) => ({ size: cm.treeSize, root: cm.rootHash })), { saltOf: keys.saltOf });
      expect(audit.ok).toBe(true);

      const service = createLogService({ store: log.store, codec, publicKey: key, origin: ORIGIN, subjectMap: { keys } });
      await service.start();
      try {
        const d0 = codec.decode(all.find((l) => l.type === 'DisclosureRecorded')!.data).event as DisclosureRecorded;
        const pseudonym = d0.subject.value;
        const index = keys.indexOf(pseudonym);
        const answer = service.subjectMapProofs([index.toString('hex')]);
        const newest = commitments.at(-1)!;
        expect(answer.commitment.treeSize).toBe(newest.treeSize);
        expect(Buffer.from(answer.commitment.event, 'base64').equals(Buffer.from(all[answer.commitment.leafIndex]!.data))).toBe(true);
        const root = Buffer.from(answer.commitment.rootHash, 'base64');
        expect(root.equals(newest.rootHash)).toBe(true);
        const proof = decodeMapProof(Buffer.from(answer.proofs[0]!.proof, 'base64'));
        const value = verifyMapProof(root, index, proof);
        const listed = await subjectLeaves(log, pseudonym, newest.treeSize);
        expect(value?.count).toBe(listed.length);
        expect(checkSubjectList(root, index, proof, listed, { treeSize: newest.treeSize })).toEqual({ ok: true, count: listed.length });
        // Leaving one out is caught.
        expect(checkSubjectList(root, index, proof, listed.slice(1), { treeSize: newest.treeSize }).ok).toBe(false);
        // A subject that is not in the log gets a valid proof of absence.
        const nobody = keys.indexOf('psn_k1_' + 'z'.repeat(43));
        const absent = service.subjectMapProofs([nobody.toString('hex')]);
        expect(verifyMapProof(root, nobody, decodeMapProof(Buffer.from(absent.proofs[0]!.proof, 'base64')))).toBeNull();
        expect(() => service.subjectMapProofs(['XYZ'])).toThrow(/64 lowercase hex/);
      } finally {
        await service.stop();
      }

      // A restart follows the commitments in the log and writes none twice.
      await stopAll();
      const before = (await commitmentsIn(log)).length;
      const again = await start(log, { everyMs: 0 });
      await appendDisclosures(log.store, 14, 2);
      await again.checkpointNow();
      await waitFor(async () => (await commitmentsIn(log)).length === before + 1);
      const after = await commitmentsIn(log);
      expect(new Set(after.map((x) => x.eventId)).size).toBe(after.length);
      expect(after.map((x) => x.treeSize).every((s, i, a) => i === 0 || s > a[i - 1]!)).toBe(true);
    } finally {
      await stopAll();
      await log.close();
    }
  });

  it('a commitment that is not the log\'s map is never proven against: the log service says so and serves no proof', async () => {
    const log = await pgliteTestLog(pglite);
    try {
      await appendDisclosures(log.store, 0, 6);
      // A forged commitment (right size, wrong root), then an honest checkpointer signs a checkpoint over it.
      const forged: SubjectMapCommitted = { eventId: subjectMapCommitmentId(ORIGIN, 6), occurredAt: Date.now() * 1000, treeSize: 6, rootHash: randomBytes(32) };
      await log.store.append(SUBJECT_MAP_STREAM, [{ eventId: forged.eventId, type: 'SubjectMapCommitted', data: codec.encode('SubjectMapCommitted', forged), metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } }]);
      const errors: string[] = [];
      const c = createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, everyEvents: 1, everyMs: 60_000, subjectMap: { keys, everyEvents: 1_000 }, onError: (e) => errors.push((e as Error).message) });
      await c.start();
      running.push(c);
      await c.checkpointNow();
      expect(errors.join('\n')).toMatch(/committed at tree size 6 \(leaf 6\) is not this log's/);
      const serviceErrors: string[] = [];
      const service = createLogService({ store: log.store, codec, publicKey: key, origin: ORIGIN, subjectMap: { keys }, onError: (e) => serviceErrors.push((e as Error).message) });
      await service.start();
      try {
        expect(serviceErrors.join('\n')).toMatch(/committed at tree size 6 \(leaf 6\) is not this log's/);
        expect(() => service.subjectMapProofs([keys.indexOf('psn_k1_' + 'a'.repeat(43)).toString('hex')])).toThrow(/no subject map commitment/);
      } finally {
        await service.stop();
      }
      expect(await checkpointSizes(log)).toContain(7);
      void CHECKPOINT_STREAM;
    } finally {
      await stopAll();
      await log.close();
    }
  });

  it('heartbeat: with nothing waiting, one commitment per heartbeat (each covered by a checkpoint), none before the first; a restart goes by the last one\'s time', async () => {
    const log = await pgliteTestLog(pglite);
    const HEARTBEAT = 1_000;
    const ticks: number[] = [];
    const beat = async () => {
      // The checkpointer's own timer every 50 ms (it checks the map on each); disclosures alone would wait 60 s or 1,000.
      const c = createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, everyEvents: 1_000, everyMs: 50, subjectMap: { keys, everyEvents: 1_000, everyMs: 60_000, heartbeatMs: HEARTBEAT }, onError: (e) => console.error(e), onTick: () => ticks.push(Date.now()) });
      await c.start();
      running.push(c);
      return c;
    };
    const typesOf = async () => (await leavesOf(log)).map((l) => (l.type === 'SubjectMapCommitted' ? 'C' : l.type === 'CheckpointSigned' ? 'K' : 'D')).join('');
    try {
      // No commitment yet, nothing waiting: more than a heartbeat of ticks commits nothing.
      const c = await beat();
      const from = ticks.length;
      await waitFor(() => ticks.length >= from + 3 && ticks.at(-1)! - ticks[from]! > HEARTBEAT);
      expect(await typesOf()).toBe('');
      await appendDisclosures(log.store, 0, 3);
      // (The 50 ms timer may sign a checkpoint over them first.)
      await waitFor(() => c.treeSize >= 3);
      expect(await c.commitMapNow()).toBeGreaterThanOrEqual(3);
      // Then, with no disclosure, heartbeats: two more commitments, each followed by the checkpoint covering it.
      await waitFor(async () => /^[DK]*(CK){3}$/.test(await typesOf()));
      await stopAll();
      const types = await typesOf();
      expect(types).toMatch(/^[DK]*(CK){3,}C?$/);
      expect(types.replace(/[^D]/g, '')).toBe('DDD');
      const cms = await commitmentsIn(log);
      // Nothing waited: the same map (its root does not depend on the size), each at the size before it.
      expect(cms.map((cm) => cm.treeSize)).toEqual([...types].flatMap((t, i) => (t === 'C' ? [i] : [])));
      for (const cm of cms) expect(Buffer.from(cm.rootHash).equals(Buffer.from(cms[0]!.rootHash))).toBe(true);
      // Never two within a heartbeat.
      for (let i = 1; i < cms.length; i++) expect(cms[i]!.occurredAt - cms[i - 1]!.occurredAt).toBeGreaterThanOrEqual(HEARTBEAT * 1000);
      const sizes = await checkpointSizes(log);
      // The checkpoint right after each commitment covers it (the last may have been cut off by the stop).
      for (const cm of types.endsWith('C') ? cms.slice(0, -1) : cms) expect(sizes, types).toContain(cm.treeSize + 1);

      // A restart more than a heartbeat after the last commitment sends one at once (by the commitment's time, not the start's) …
      const last = cms.at(-1)!.occurredAt / 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, last + HEARTBEAT - Date.now()) + 50));
      const startedAt = Date.now();
      await beat();
      await waitFor(async () => (await commitmentsIn(log)).length === cms.length + 1);
      const restarted = (await commitmentsIn(log)).at(-1)!;
      expect(restarted.occurredAt / 1000 - startedAt).toBeLessThan(HEARTBEAT / 2);
      await waitFor(async () => (await typesOf()).endsWith('CK'));
      await stopAll();
      // … and one right after it waits for a heartbeat: several ticks, no commitment.
      const count = (await commitmentsIn(log)).length;
      await beat();
      const at = ticks.length;
      await waitFor(() => ticks.length >= at + 4);
      if (Date.now() - restarted.occurredAt / 1000 < HEARTBEAT) expect((await commitmentsIn(log)).length).toBe(count);
    } finally {
      await stopAll();
      await log.close();
    }
  });

  it('one map per process: a checkpointer committing the map its log service keeps; the service checks each commitment and proves there', async () => {
    const log = await pgliteTestLog(pglite);
    const errors: string[] = [];
    const service = createLogService({ store: log.store, codec, publicKey: key, origin: ORIGIN, subjectMap: { keys }, onError: (e) => errors.push((e as Error).message) });
    await service.start();
    const c = createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, everyEvents: 1000, everyMs: 60_000, subjectMap: { shared: () => service.subjectMapFollower, everyEvents: 1000, everyMs: 60_000 }, onError: (e) => errors.push((e as Error).message) });
    await c.start();
    running.push(c);
    try {
      expect(() => createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, subjectMap: { keys, shared: () => undefined } })).toThrow(/one of them/);
      for (const [from, count] of [[0, 9], [9, 5]] as const) {
        await appendDisclosures(log.store, from, count);
        await waitFor(() => service.treeSize >= c.treeSize && c.treeSize > 0 && service.subjectMapFollower!.size === service.treeSize);
        const size = await c.commitMapNow();
        expect(size).toBeGreaterThan(0);
        await waitFor(() => (service.latestCheckpoint()?.treeSize ?? 0) >= c.latestCheckpointSize);
        const index = keys.indexOf(`psn_k1_${'0'.padStart(43, 'a')}`);
        const answer = service.subjectMapProofs([index.toString('hex')]);
        expect(answer.commitment.treeSize).toBe(size);
        const root = Buffer.from(answer.commitment.rootHash, 'base64');
        const listed = await subjectLeaves(log, `psn_k1_${'0'.padStart(43, 'a')}`, size!);
        expect(checkSubjectList(root, index, decodeMapProof(Buffer.from(answer.proofs[0]!.proof, 'base64')), listed, { treeSize: size! })).toEqual({ ok: true, count: listed.length });
      }
      // The shared map's roots are the log's: recomputed from the stored bytes alone, every commitment agrees.
      const all = await leavesOf(log);
      const logLeaves: LogLeaf[] = all.map((l, logIndex) => {
        const r = read(l.data);
        return { logIndex, leafHash: leafHash(l.data), index: r.kind === 'disclosure' ? keys.indexOf(r.pseudonym) : null };
      });
      const commitments = await commitmentsIn(log);
      expect(commitments).toHaveLength(2);
      expect(auditMapCommitments(logLeaves, commitments.map((cm) => ({ size: cm.treeSize, root: cm.rootHash })), { saltOf: keys.saltOf }).ok).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await stopAll();
      await service.stop();
      await log.close();
    }
  });
});
