import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MerkleTree, generateSigningKey, logOrigin, signTreeHead, verifierKeyString } from '@sporbar/auditor';
import { createCosigner, formatPolicy, parsePolicy } from '@sporbar/auditor/note';
import type { InclusionProofLike, LogCheckpointLike } from '@sporbar/log/routes';
import { judgeIntegrity } from '../src/integrity.ts';

/**
 * The report's own judgement of the log's answer (integrity.ts): a real signed checkpoint, real
 * cosignatures of two witnesses, real RFC 9162 proofs, and each way of lying about them.
 */
const origin = logOrigin('integrity-test');
const key = generateSigningKey();
const [w1, w2] = ['datatilsynet.test/w', 'rigsrevisionen.test/w'].map((n) => createCosigner(n, generateKeyPairSync('ed25519').privateKey));
const policyOf = (quorum?: number) => parsePolicy(formatPolicy({ logs: [{ vkey: verifierKeyString(origin, key.publicKeyRaw) }], witnesses: [w1!, w2!].map((w) => ({ name: w.name, vkey: w.vkey })), ...(quorum ? { quorum } : {}) }));
const tree = new MerkleTree();
for (let i = 0; i < 11; i++) tree.appendLeaf(Buffer.from(`event ${i}`));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function checkpointOf(size: number, cosigners = [w1!, w2!], signer = key): LogCheckpointLike {
  const note = signTreeHead({ origin, treeSize: size, rootHash: tree.root(size) }, signer);
  const text = note.slice(0, note.indexOf('\n\n') + 1);
  return {
    treeSize: size,
    rootHash: b64(tree.root(size)),
    keyId: key.keyId,
    algorithm: 'ED25519',
    signature: '',
    occurredAt: new Date().toISOString(),
    eventId: '00000000-0000-4000-8000-000000000001',
    position: String(size + 1),
    leafIndex: size,
    checkpoint: `${note}${cosigners.map((c) => `${c.cosign(text, 1_760_000_000n)}\n`).join('')}`,
  };
}
const proofOf = (index: number, size: number): InclusionProofLike => ({ eventId: `e-${index}`, leafIndex: index, treeSize: size, leafHash: b64(tree.leafHash(index)), rootHash: b64(tree.root(size)), proof: tree.inclusionProof(index, size).map(b64) });

describe('the report judges the checkpoint and proofs itself', () => {
  it('ok: the log signed, both witnesses cosigned (quorum 2), every proof leads to the root', () => {
    const v = judgeIntegrity(checkpointOf(11), [proofOf(3, 11), proofOf(10, 11)], policyOf());
    expect(v).toMatchObject({ status: 'ok', witnessed: { met: true, witnesses: [{ name: w1!.name, status: 'cosigned' }, { name: w2!.name, status: 'cosigned' }] } });
    expect(v.reason).toBeUndefined();
  });

  it('unwitnessed: one cosignature of two needed; met with quorum 1', () => {
    const cp = checkpointOf(11, [w1!]);
    expect(judgeIntegrity(cp, [proofOf(3, 11)], policyOf())).toMatchObject({ status: 'unwitnessed', reason: expect.stringContaining(`only ${w1!.name} did`), witnessed: { met: false } });
    expect(judgeIntegrity(cp, [proofOf(3, 11)], policyOf(1))).toMatchObject({ status: 'ok', witnessed: { met: true } });
    expect(judgeIntegrity(checkpointOf(11, []), [], policyOf())).toMatchObject({ status: 'unwitnessed', reason: expect.stringContaining('no witness did') });
  });

  it("invalid: a cosignature copied from another checkpoint, a note not signed by the log's key, a JSON root that is not the note's, a proof that misses the root", () => {
    const honest = checkpointOf(10);
    const other = checkpointOf(11, []);
    const copied = { ...other, checkpoint: other.checkpoint + honest.checkpoint.split('\n').filter((l) => l.startsWith(`\u2014 ${w1!.name} `) || l.startsWith(`\u2014 ${w2!.name} `)).map((l) => `${l}\n`).join('') };
    expect(judgeIntegrity(copied, [], policyOf())).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/cosignature of witness .* does not verify/) });
    expect(judgeIntegrity(checkpointOf(11, [w1!, w2!], generateSigningKey()), [], policyOf())).toMatchObject({ status: 'invalid', reason: expect.stringContaining('not signed by the log') });
    expect(judgeIntegrity({ ...checkpointOf(11), rootHash: b64(tree.root(10)) }, [], policyOf())).toMatchObject({ status: 'invalid', reason: expect.stringContaining('the signed note says tree size 11') });
    const bad = { ...proofOf(3, 11), leafHash: b64(tree.leafHash(4)) };
    expect(judgeIntegrity(checkpointOf(11), [bad], policyOf())).toMatchObject({ status: 'invalid', reason: "the inclusion proof of event e-3 does not lead to the checkpoint's root (tree size 11)" });
    // A proof for another tree size than the checkpoint's does not count either.
    expect(judgeIntegrity(checkpointOf(11), [proofOf(3, 10)], policyOf()).status).toBe('invalid');
  });

  it('without a policy: no witness verdict, but the proofs are still checked; no checkpoint is ok without a policy and unwitnessed with one', () => {
    expect(judgeIntegrity(checkpointOf(11, []), [proofOf(0, 11)], undefined)).toEqual({ status: 'ok' });
    expect(judgeIntegrity(checkpointOf(11, []), [{ ...proofOf(0, 11), proof: [] }], undefined).status).toBe('invalid');
    expect(judgeIntegrity(null, [], undefined)).toEqual({ status: 'ok' });
    expect(judgeIntegrity(null, [], policyOf())).toMatchObject({ status: 'unwitnessed', reason: 'the log has no signed checkpoint yet' });
  });
});
