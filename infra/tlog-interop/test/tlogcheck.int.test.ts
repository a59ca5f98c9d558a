/**
 * The harness itself: a checkpoint signed exactly as C2SP signed-note says, made here with nothing but
 * node:crypto, opens with Go's note.Open; proofs computed here check with tlog.CheckRecord/CheckTree;
 * anything tampered fails. (Sporbar's own checkpoints are checked against it in the log's tests.)
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { goPrerequisites, tlogCheck } from '../src/index.ts';

const prereq = goPrerequisites();
if (!prereq.ok && process.env.CI === 'true') throw new Error(`CI=true: the Go verifier needs ${prereq.missing.join(', ')}`);

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (data: Buffer) => sha(Buffer.of(0), data);
const node = (l: Buffer, r: Buffer) => sha(Buffer.of(1), l, r);
/** RFC 6962 MTH and the inclusion/consistency paths, written out plainly for the test. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}
function subproof(m: number, leaves: Buffer[], whole: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return whole ? [] : [mth(leaves)];
  const k = 2 ** Math.floor(Math.log2(n - 1));
  return m <= k ? [...subproof(m, leaves.slice(0, k), whole), mth(leaves.slice(k))] : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

const name = 'sporbar.test/log';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const raw = publicKey.export({ format: 'jwk' }).x!;
const rawKey = Buffer.from(raw, 'base64url');
const keyHash = sha(Buffer.from(name), Buffer.of(0x0a, 0x01), rawKey).subarray(0, 4);
const verifierKey = `${name}+${keyHash.toString('hex')}+${Buffer.concat([Buffer.of(1), rawKey]).toString('base64')}`;
function signedNote(body: string, hash = keyHash): string {
  const sig = sign(null, Buffer.from(body), privateKey);
  return `${body}\n— ${name} ${Buffer.concat([hash, sig]).toString('base64')}\n`;
}

const records = Array.from({ length: 13 }, (_, i) => Buffer.from(`record ${i}`));
const leaves = records.map(leafHash);
const b64 = (b: Buffer) => b.toString('base64');

describe.skipIf(!prereq.ok)('the Go checksum database code as an independent verifier', () => {
  const checkpoint = signedNote(`${'sporbar.test/log'}\n13\n${b64(mth(leaves))}\n`);

  it('opens a C2SP checkpoint and checks inclusion and consistency proofs', () => {
    const answer = tlogCheck({
      verifierKey,
      checkpoint,
      inclusion: [0, 5, 12].map((i) => ({ index: i, leaf: b64(records[i]!), proof: path(i, leaves).map(b64) })),
      consistency: { oldSize: 7, oldRoot: b64(mth(leaves.slice(0, 7))), proof: subproof(7, leaves, true).map(b64) },
    });
    expect(answer).toMatchObject({ ok: true, exitCode: 0, origin: name, size: 13, inclusion: ['ok', 'ok', 'ok'], consistency: 'ok' });
    expect(answer.signers).toEqual([`${name}+${keyHash.toString('hex')}`]);
  });

  it("refuses a note whose key hash is not C2SP's, a changed body, a wrong leaf and a wrong old root", () => {
    const wrongHash = createHash('sha256').update(rawKey).digest().subarray(0, 4);
    expect(tlogCheck({ verifierKey, checkpoint: signedNote(`${name}\n13\n${b64(mth(leaves))}\n`, wrongHash) })).toMatchObject({ ok: false, exitCode: 1, error: expect.stringMatching(/note\.Open/) });
    expect(tlogCheck({ verifierKey, checkpoint: checkpoint.replace('\n13\n', '\n12\n') })).toMatchObject({ ok: false, error: expect.stringMatching(/invalid signature|verif/i) });
    const bad = tlogCheck({ verifierKey, checkpoint, inclusion: [{ index: 5, leaf: b64(records[4]!), proof: path(5, leaves).map(b64) }] });
    expect(bad.ok).toBe(false);
    expect(bad.inclusion?.[0]).toMatch(/invalid/i);
    const forked = tlogCheck({ verifierKey, checkpoint, consistency: { oldSize: 7, oldRoot: b64(mth(leaves.slice(1, 8))), proof: subproof(7, leaves, true).map(b64) } });
    expect(forked.ok).toBe(false);
  });
});
