/**
 * Sporbar's checkpoints and proofs, checked by an implementation nobody here wrote: the Go checksum
 * database's own golang.org/x/mod/sumdb/note (note.Open with the verifier key string /v1/log/key serves)
 * and sumdb/tlog (tlog.CheckRecord over the stored leaf bytes, tlog.CheckTree between two checkpoints),
 * built offline from Debian's source (@sporbar/tlog-interop).
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goPrerequisites, tlogCheck } from '@sporbar/tlog-interop';
import { createLogService, type LogService } from '../src/log-service.ts';
import { ORIGIN, codec, pgliteTestLog, writeLog, type TestLog, type WrittenLog } from './support.ts';

const prereq = goPrerequisites();
if (!prereq.ok && process.env.CI === 'true') throw new Error(`CI=true: the Go verifier needs ${prereq.missing.join(', ')}`);

describe.skipIf(!prereq.ok)("Go's sumdb/note and sumdb/tlog accept Sporbar's log", () => {
  let db: PGlite;
  let log: TestLog;
  let written: WrittenLog;
  let service: LogService;
  const leafBytes = new Map<number, Buffer>();

  beforeAll(async () => {
    db = await PGlite.create();
    log = await pgliteTestLog(db);
    written = await writeLog(log.store, { every: 10, chunks: 6, tail: 3 });
    service = createLogService({ store: log.store, codec, publicKey: written.key, origin: ORIGIN });
    await service.start();
    let i = 0;
    for await (const e of log.store.readAll()) leafBytes.set(i++, Buffer.from(e.data));
  });
  afterAll(async () => {
    await service?.stop();
    await log?.close();
    await db?.close();
  });

  it("opens every checkpoint with note.Open under the served verifier key, and checks inclusion proofs of leaves in it with tlog.CheckRecord", async () => {
    const { verifierKey, keyId, origin } = service.publicKey();
    expect(verifierKey.startsWith(`${origin}+${keyId}+`)).toBe(true);
    for (const cp of written.checkpoints) {
      const indexes = [0, Math.floor(cp.treeSize / 2), cp.treeSize - 1];
      const inclusion = [];
      for (const index of indexes) {
        const proof = await service.inclusionProof(written.leaves[index]!, cp.treeSize);
        inclusion.push({ index, leaf: leafBytes.get(index)!.toString('base64'), leafHash: proof.leafHash, proof: proof.proof });
      }
      const answer = tlogCheck({ verifierKey, checkpoint: cp.text, inclusion });
      expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true, exitCode: 0, origin, size: cp.treeSize, inclusion: ['ok', 'ok', 'ok'] });
      expect(answer.signers).toEqual([`${origin}+${keyId}`]);
    }
  });

  it('checks consistency proofs between every two checkpoints with tlog.CheckTree', () => {
    const { verifierKey } = service.publicKey();
    const cps = written.checkpoints;
    for (let a = 0; a < cps.length; a++) {
      for (let b = a + 1; b < cps.length; b++) {
        const p = service.consistencyProof(cps[a]!.treeSize, cps[b]!.treeSize);
        const answer = tlogCheck({ verifierKey, checkpoint: cps[b]!.text, consistency: { oldSize: p.from, oldRoot: p.fromRoot, proof: p.proof } });
        expect(answer.consistency, `${cps[a]!.treeSize} → ${cps[b]!.treeSize}`).toBe('ok');
      }
    }
  });

  it('refuses what it should: a leaf edited after the fact, a checkpoint with a changed size, another origin', async () => {
    const { verifierKey } = service.publicKey();
    const cp = written.checkpoints.at(-1)!;
    const proof = await service.inclusionProof(written.leaves[5]!, cp.treeSize);
    const edited = Buffer.from(leafBytes.get(5)!);
    edited[edited.length - 1]! ^= 1;
    expect(tlogCheck({ verifierKey, checkpoint: cp.text, inclusion: [{ index: 5, leaf: edited.toString('base64'), proof: proof.proof }] }).ok).toBe(false);
    expect(tlogCheck({ verifierKey, checkpoint: cp.text.replace(`\n${cp.treeSize}\n`, `\n${cp.treeSize + 1}\n`) }).ok).toBe(false);
    const foreign = verifierKey.replace(/^[^+]+/, 'sporbar.v1/another-log');
    expect(tlogCheck({ verifierKey: foreign, checkpoint: cp.text }).ok).toBe(false);
  });
});
