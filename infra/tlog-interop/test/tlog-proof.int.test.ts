/**
 * tlogcheck's proof mode (go/proof.go) on its own: C2SP tlog-proofs made with the auditor's code (its
 * Merkle tree, a signed checkpoint, three cosignature/v1 witnesses) check with Go's note.Open, the
 * cosignature/v1 note.Verifier written in Go, a k-of-n count and tlog.CheckRecord. An invalid
 * cosignature counts as none (k of the rest may still be met); a witness key whose hash is wrong, a
 * proof without its entry or a malformed file is refused. (A proof downloaded from the access API is
 * checked in services/access-api/test/proof-download.int.test.ts.)
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MerkleTree, generateSigningKey, logOrigin, signTreeHead, verifierKeyString } from '@sporbar/auditor';
import { createCosigner, formatTlogProof, parseNote } from '@sporbar/auditor/note';
import { goPrerequisites, tlogProofCheck } from '../src/index.ts';

const prereq = goPrerequisites();
if (!prereq.ok && process.env.CI === 'true') throw new Error(`CI=true: the Go verifier needs ${prereq.missing.join(', ')}`);

describe.skipIf(!prereq.ok)('tlogcheck: C2SP tlog-proof mode', () => {
  const origin = logOrigin('go-proof-test');
  const key = generateSigningKey();
  const logVkey = verifierKeyString(origin, key.publicKeyRaw);
  const witnesses = ['w1', 'w2', 'w3'].map((n) => createCosigner(n, generateKeyPairSync('ed25519').privateKey));
  const tree = new MerkleTree();
  const entries = Array.from({ length: 11 }, (_, i) => Buffer.from(`entry ${i}`));
  for (const e of entries) tree.appendLeaf(e);
  const signed = signTreeHead({ origin, treeSize: tree.size, rootHash: tree.root() }, key);
  const text = parseNote(signed).text;
  const cosigned = (by: typeof witnesses, bad: string[] = []) =>
    signed +
    by
      .map((w) => {
        const line = w.cosign(text, 1_765_000_000n);
        if (!bad.includes(w.name)) return `${line}\n`;
        const sig = Buffer.from(line.split(' ')[2]!, 'base64');
        sig[sig.length - 1]! ^= 1;
        return `\u2014 ${w.name} ${sig.toString('base64')}\n`;
      })
      .join('');
  const proof = (index: number, checkpoint: string, extra: Buffer | null = entries[index]!) =>
    formatTlogProof({ ...(extra ? { extra } : {}), index, proof: tree.inclusionProof(index), checkpoint });
  const vkeys = witnesses.map((w) => w.vkey);

  it('all three witnesses cosigned, 3 of 3 needed: proven; the signers are the log and the three', () => {
    const a = tlogProofCheck(proof(7, cosigned(witnesses)), logVkey, vkeys, 3);
    expect(a).toMatchObject({ ok: true, exitCode: 0, origin, size: 11, inclusion: ['ok'] });
    expect(a.signers!.map((s) => s.split('+')[0])).toEqual([origin, 'w1', 'w2', 'w3']);
  });

  it("an invalid cosignature counts as none: 2 of 3 still met, 3 of 3 not; a missing witness likewise", () => {
    const one = cosigned(witnesses, ['w2']);
    expect(tlogProofCheck(proof(3, one), logVkey, vkeys, 2)).toMatchObject({ ok: true, exitCode: 0 });
    expect(tlogProofCheck(proof(3, one), logVkey, vkeys, 3)).toMatchObject({ ok: false, exitCode: 1, error: 'the quorum is not met: 2 of the 3 witnesses cosigned, 3 needed' });
    expect(tlogProofCheck(proof(3, cosigned(witnesses.slice(0, 1))), logVkey, vkeys, 2)).toMatchObject({ ok: false, exitCode: 1 });
    // Without witnesses (quorum 0) the log's signature and the inclusion are enough.
    expect(tlogProofCheck(proof(0, signed), logVkey)).toMatchObject({ ok: true, exitCode: 0 });
  });

  it('the entry not at that index, a proof without its entry, a witness key with a wrong hash, a malformed file: refused', () => {
    expect(tlogProofCheck(proof(4, signed, entries[5]!), logVkey)).toMatchObject({ ok: false, exitCode: 1, inclusion: ['entry 4: invalid transparency proof'] });
    expect(tlogProofCheck(proof(4, signed, null), logVkey)).toMatchObject({ ok: false, exitCode: 1, inclusion: ['the proof carries no entry (extra)'] });
    const wrongHash = vkeys[0]!.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    expect(tlogProofCheck(proof(1, signed), logVkey, [wrongHash], 0).error).toMatch(/^witnesses\[0\]: the key hash does not match/);
    expect(tlogProofCheck('c2sp.org/tlog-proof@v1\nindex 01\n\n' + signed, logVkey).error).toMatch(/^tlog-proof: bad index/);
    expect(tlogProofCheck(proof(1, signed), witnesses[0]!.vkey).error).toMatch(/^verifier key: /);
  });
});
