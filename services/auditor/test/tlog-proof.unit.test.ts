import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, logOrigin, signTreeHead, verifierKeyString } from '../src/checkpoint/signed-tree-head.ts';
import { inclusionProof, leafHash, rootFromLeafHashes } from '../src/merkle/rfc9162.ts';
import { createCosigner, formatPolicy, formatTlogProof, parsePolicy, parseTlogProof, TlogProofError, verifyTlogProof } from '../src/note/index.ts';

const origin = logOrigin('proof-test');
const log = generateSigningKey();
const w = createCosigner('witness.example', generateKeyPairSync('ed25519').privateKey);
const entries = Array.from({ length: 7 }, (_, i) => Buffer.from(`entry ${i}`));
const hashes = entries.map((e) => leafHash(e));
const signed = signTreeHead({ origin, treeSize: 7, rootHash: rootFromLeafHashes(hashes) }, log);
const cosigned = `${signed}${w.cosign(signed.slice(0, signed.indexOf('\n\n') + 1), 1_750_000_000n)}\n`;
const policy = parsePolicy(formatPolicy({ logs: [{ vkey: verifierKeyString(origin, log.publicKeyRaw) }], witnesses: [{ name: 'W', vkey: w.vkey }] }));

const proofOf = (i: number) => formatTlogProof({ extra: entries[i]!, index: i, proof: inclusionProof(hashes, i), checkpoint: cosigned });

describe('C2SP tlog-proof', () => {
  it("has the spec's layout: header, extra, index, hashes, an empty line, the checkpoint verbatim", () => {
    const text = proofOf(5);
    const lines = text.split('\n');
    expect(lines[0]).toBe('c2sp.org/tlog-proof@v1');
    expect(lines[1]).toBe(`extra ${entries[5]!.toString('base64')}`);
    expect(lines[2]).toBe('index 5');
    expect(lines.slice(3, 6).every((l) => Buffer.from(l, 'base64').length === 32)).toBe(true);
    expect(text.endsWith(`\n\n${cosigned}`)).toBe(true);
    const parsed = parseTlogProof(text);
    expect(parsed.index).toBe(5);
    expect(parsed.checkpoint).toBe(cosigned);
    expect(formatTlogProof(parsed)).toBe(text);
  });

  it('verifies every entry, offline, under the policy', () => {
    for (let i = 0; i < entries.length; i++) {
      const check = verifyTlogProof(proofOf(i), policy, { origin });
      expect(check).toMatchObject({ ok: true, index: i, treeSize: 7, witnesses: [{ name: 'W', status: 'cosigned' }] });
    }
  });

  it('refuses a changed entry, a wrong index, a changed hash, a checkpoint without the quorum', () => {
    const good = proofOf(3);
    expect(verifyTlogProof(good.replace(`extra ${entries[3]!.toString('base64')}`, `extra ${Buffer.from('entry 9').toString('base64')}`), policy)).toMatchObject({ ok: false, reason: /does not lead to the checkpoint's root/ });
    expect(verifyTlogProof(good.replace('index 3', 'index 2'), policy)).toMatchObject({ ok: false });
    const lines = good.split('\n');
    lines[3] = Buffer.alloc(32, 7).toString('base64');
    expect(verifyTlogProof(lines.join('\n'), policy)).toMatchObject({ ok: false, reason: /inclusion proof/ });
    const uncosigned = formatTlogProof({ extra: entries[3]!, index: 3, proof: inclusionProof(hashes, 3), checkpoint: signed });
    expect(verifyTlogProof(uncosigned, policy)).toMatchObject({ ok: false, reason: /quorum/ });
    expect(verifyTlogProof(good, policy, { entry: Buffer.from('other') })).toMatchObject({ ok: false, reason: /not the one the proof carries/ });
  });

  it.each([
    ['a wrong header', 'c2sp.org/tlog-proof@v2\nindex 0\n\nx\n', /first line/],
    ['no index', 'c2sp.org/tlog-proof@v1\n\nx\n', /index line/],
    ['a leading zero', 'c2sp.org/tlog-proof@v1\nindex 01\n\nx\n', /leading zeroes/],
    ['a short hash', `c2sp.org/tlog-proof@v1\nindex 1\n${Buffer.alloc(31).toString('base64')}\n\nx\n`, /32-byte hash/],
    ['no empty line', 'c2sp.org/tlog-proof@v1\nindex 1\n', /empty line/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseTlogProof(text)).toThrow(TlogProofError);
    expect(() => parseTlogProof(text)).toThrow(message);
  });
});
