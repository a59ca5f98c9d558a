import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cosignatureMessage, createCosigner, verifyCosignature, parseSignatureLine, parseVkey, SIG_TYPE_COSIGNATURE_V1 } from '@sporbar/auditor/note';
import { rawKey } from './support/test-log.ts';

// The checkpoint of c2sp.org/tlog-cosignature's example.
const CHECKPOINT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
// RFC 8032 §7.1 TEST 1's secret key, for a cosignature whose bytes never change.
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const fixedKey = () => createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), RFC8032_SEED]), format: 'der', type: 'pkcs8' });

describe('tlog-cosignature/v1 (Ed25519)', () => {
  it('makes a line that an independent check, written from the spec text with crypto.verify, accepts', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const cosigner = createCosigner('witness.example.com/w1', privateKey);
    const line = cosigner.cosign(CHECKPOINT, 1679315147n);

    // — <name> base64(key ID[4] ‖ timestamp u64 big-endian ‖ Ed25519 signature[64])
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line)!;
    expect(m[1]).toBe('witness.example.com/w1');
    const bytes = Buffer.from(m[2]!, 'base64');
    expect(bytes).toHaveLength(4 + 8 + 64);
    const pub = rawKey(publicKey);
    const expectedId = createHash('sha256').update(Buffer.concat([Buffer.from('witness.example.com/w1\n'), Buffer.of(0x04), pub])).digest().subarray(0, 4);
    expect(bytes.subarray(0, 4)).toEqual(expectedId);
    expect(bytes.readBigUInt64BE(4)).toBe(1679315147n);
    // The signed message, from the spec's example: two header lines, then the whole note body.
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n`);
    expect(verify(null, message, publicKey, bytes.subarray(12))).toBe(true);
    expect(cosignatureMessage(CHECKPOINT, 1679315147n)).toEqual(message);
  });

  it('publishes a vkey of type 0x04 whose key ID is the cosignature key ID', () => {
    const cosigner = createCosigner('witness.example.com/w1', fixedKey());
    const vkey = parseVkey(cosigner.vkey);
    expect(vkey).toMatchObject({ name: 'witness.example.com/w1', type: SIG_TYPE_COSIGNATURE_V1, keyId: cosigner.keyId });
    expect(vkey.publicKey).toEqual(rawKey(createPublicKey(fixedKey())));
    // RFC 8032 TEST 1's public key.
    expect(vkey.publicKey.toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    // The same key as a signed-note Ed25519 (0x01) key has another ID: the type byte separates them.
    expect(cosigner.vkey.split('+')[1]).not.toBe(
      createHash('sha256').update(Buffer.concat([Buffer.from('witness.example.com/w1\n'), Buffer.of(0x01), vkey.publicKey])).digest().subarray(0, 4).toString('hex'),
    );
  });

  it('is deterministic: this key, name, time and checkpoint give these bytes (golden)', () => {
    const cosigner = createCosigner('witness.example.com/w1', fixedKey());
    expect(cosigner.vkey).toBe('witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea');
    expect(cosigner.cosign(CHECKPOINT, 1679315147n)).toBe(
      '— witness.example.com/w1 fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==',
    );
  });

  it("reads the spec example's cosignature line as key ID ‖ the example's time 1679315147 ‖ 64 signature bytes", () => {
    const sig = parseSignatureLine('— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==');
    expect(sig.signature).toHaveLength(8 + 64);
    expect(sig.signature.readBigUInt64BE(0)).toBe(1679315147n);
  });

  it('verifies its own lines and refuses a changed checkpoint, time, key or name', () => {
    const cosigner = createCosigner('witness.example.com/w1', fixedKey());
    const vkey = parseVkey(cosigner.vkey);
    const sig = parseSignatureLine(cosigner.cosign(CHECKPOINT, 1700000000n));
    expect(verifyCosignature(vkey, CHECKPOINT, sig)).toEqual({ ok: true, timestamp: 1700000000n });
    expect(verifyCosignature(vkey, CHECKPOINT.replace('20852163', '20852164'), sig).ok).toBe(false);
    const later = Buffer.concat([Buffer.alloc(4), sig.signature]);
    later.writeUInt32BE(sig.keyId, 0);
    later.writeBigUInt64BE(1700000001n, 4);
    expect(verifyCosignature(vkey, CHECKPOINT, parseSignatureLine(`— witness.example.com/w1 ${later.toString('base64')}`)).ok).toBe(false);
    const other = parseVkey(createCosigner('witness.example.com/w1', generateKeyPairSync('ed25519').privateKey).vkey);
    expect(verifyCosignature(other, CHECKPOINT, sig)).toEqual({ ok: false, reason: 'not this cosigner' });
    const renamed = parseSignatureLine(sig.line.replace('w1', 'w2'));
    expect(verifyCosignature(vkey, CHECKPOINT, renamed).ok).toBe(false);
  });

  it('never signs with timestamp 0 or beyond 2^63-1, and refuses such a line', () => {
    const cosigner = createCosigner('witness.example.com/w1', fixedKey());
    expect(() => cosigner.cosign(CHECKPOINT, 0n)).toThrow(RangeError);
    expect(() => cosigner.cosign(CHECKPOINT, 2n ** 63n)).toThrow(RangeError);
    const sig = parseSignatureLine(cosigner.cosign(CHECKPOINT, 5n));
    const zero = Buffer.concat([Buffer.alloc(12), sig.signature.subarray(8)]);
    zero.writeUInt32BE(sig.keyId, 0);
    expect(verifyCosignature(parseVkey(cosigner.vkey), CHECKPOINT, parseSignatureLine(`— witness.example.com/w1 ${zero.toString('base64')}`))).toEqual({
      ok: false,
      reason: 'the timestamp is zero or above 2^63-1',
    });
  });

  it('refuses a name that is no key name and a key that is not Ed25519', () => {
    expect(() => createCosigner('witness example', fixedKey())).toThrow(/name/);
    expect(() => createCosigner('w+1', fixedKey())).toThrow(/name/);
    expect(() => createCosigner('w1', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(/Ed25519/);
  });
});
