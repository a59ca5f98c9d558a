import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { SporbarError } from '@sporbar/common/errors';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  type CheckpointSigner,
  checkpointBody,
  generateSigningKey,
  keyIdOf,
  noteKeyId,
  verifierKeyString,
  loadSigningKey,
  loadVerifyingKey,
  logOrigin,
  publicKeyBase64url,
  signTreeHead,
  signTreeHeadAsync,
  signingKeySeed,
  verifyTreeHead,
} from '../src/index.ts';
import { createCosigner } from '../src/note/index.ts';

// RFC 8032 §7.1 TEST 1: a known Ed25519 seed and the public key it must give.
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC8032_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');

const range = new CompactRange();
for (let i = 0; i < 1000; i++) range.appendLeaf(Buffer.from(`event ${i}`));
const head = { origin: logOrigin('dk-test-1'), treeSize: range.size, rootHash: range.root() };
const key = generateSigningKey();

const expectConfigError = (f: () => unknown) => {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(SporbarError);
  expect((thrown as SporbarError).code).toBe('SPB_ERR_CONFIG');
};

describe('checkpoint text', () => {
  it('is origin, size, base64 root, a blank line and one signature line named after the origin', () => {
    const cp = signTreeHead(head, key);
    const lines = cp.split('\n');
    expect(lines.slice(0, 4)).toEqual(['sporbar.v1/dk-test-1', '1000', range.root().toString('base64'), '']);
    expect(lines[5]).toBe('');
    expect(lines).toHaveLength(6);
    const m = /^\u2014 sporbar\.v1\/dk-test-1 ([A-Za-z0-9+/=]+)$/.exec(lines[4]!);
    expect(m).not.toBeNull();
    const blob = Buffer.from(m![1]!, 'base64');
    expect(blob).toHaveLength(68);
    // C2SP signed-note: the key hash is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], the name being the origin.
    expect(blob.subarray(0, 4).toString('hex')).toBe(createHash('sha256').update(Buffer.concat([Buffer.from('sporbar.v1/dk-test-1\n'), Buffer.of(1), key.publicKeyRaw])).digest('hex').slice(0, 8));
    expect(blob.subarray(0, 4).toString('hex')).toBe(noteKeyId('sporbar.v1/dk-test-1', key.publicKeyRaw));
    // The signature is plain Ed25519 over the three body lines, checkable without this module.
    expect(verify(null, Buffer.from(checkpointBody(head)), key.publicKey, blob.subarray(4))).toBe(true);
  });

  it('is deterministic: Ed25519 gives the same checkpoint for the same head and key', () => {
    expect(signTreeHead(head, key)).toBe(signTreeHead({ ...head, rootHash: Buffer.from(head.rootHash) }, key));
  });

  it('refuses a head it cannot encode canonically', () => {
    expect(() => signTreeHead({ ...head, origin: 'other/x' }, key)).toThrow(RangeError);
    expect(() => signTreeHead({ ...head, origin: 'sporbar.v1/a b' }, key)).toThrow(RangeError);
    expect(() => signTreeHead({ ...head, treeSize: -1 }, key)).toThrow(RangeError);
    expect(() => signTreeHead({ ...head, treeSize: 1.5 }, key)).toThrow(RangeError);
    expect(() => signTreeHead({ ...head, rootHash: Buffer.alloc(31) }, key)).toThrow(RangeError);
    expectConfigError(() => logOrigin('has space'));
  });
});

describe('sign and verify', () => {
  it('round trip: the verified head is the signed one, with the key id', () => {
    const result = verifyTreeHead(signTreeHead(head, key), key);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.treeHead.origin).toBe('sporbar.v1/dk-test-1');
    expect(result.treeHead.treeSize).toBe(1000);
    expect(Buffer.from(result.treeHead.rootHash)).toEqual(range.root());
    expect(result.treeHead.keyId).toBe(noteKeyId('sporbar.v1/dk-test-1', key.publicKeyRaw));
  });

  it('round trip for the empty tree and the largest safe size', () => {
    for (const treeSize of [0, Number.MAX_SAFE_INTEGER]) {
      const result = verifyTreeHead(signTreeHead({ ...head, treeSize }, key), key);
      expect(result.ok && result.treeHead.treeSize).toBe(treeSize);
    }
  });

  it('accepts the public key as a KeyObject, PEM or raw base64url', () => {
    const cp = signTreeHead(head, key);
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const pub of [key.publicKey, pem, publicKeyBase64url(key)]) expect(verifyTreeHead(cp, pub).ok).toBe(true);
  });

  it('checks the origin the client expects', () => {
    const cp = signTreeHead(head, key);
    expect(verifyTreeHead(cp, key, { origin: 'sporbar.v1/dk-test-1' }).ok).toBe(true);
    expect(verifyTreeHead(cp, key, { origin: 'sporbar.v1/dk-prod-1' })).toMatchObject({ ok: false, reason: expect.stringContaining('expected') });
  });

  it('fails for a tampered size, root, signature or origin', () => {
    const cp = signTreeHead(head, key);
    const rootB64 = range.root().toString('base64');
    const otherRoot = Buffer.from(range.root());
    otherRoot[31]! ^= 1;
    const sigLine = cp.split('\n')[4]!;
    const blob = Buffer.from(sigLine.split(' ')[2]!, 'base64');
    blob[40]! ^= 0x10;
    const tampered = {
      size: cp.replace('\n1000\n', '\n1001\n'),
      root: cp.replace(rootB64, otherRoot.toString('base64')),
      signature: cp.replace(sigLine, `\u2014 sporbar.v1/dk-test-1 ${blob.toString('base64')}`),
      // The whole origin changed consistently (body and signature name): the signature covers the origin.
      origin: cp.replaceAll('dk-test-1', 'dk-test-2'),
    };
    for (const [what, text] of Object.entries(tampered)) {
      expect(text, what).not.toBe(cp);
      expect(verifyTreeHead(text, key).ok, what).toBe(false);
    }
    expect(verifyTreeHead(tampered.signature, key)).toEqual({ ok: false, reason: 'the signature does not verify' });
  });

  it('fails for a signature by another key, and ignores lines from other keys (witness cosignatures)', () => {
    const other = generateSigningKey();
    const cp = signTreeHead(head, other);
    expect(verifyTreeHead(cp, key)).toEqual({ ok: false, reason: `no signature by key ${noteKeyId('sporbar.v1/dk-test-1', key.publicKeyRaw)} (key ${key.keyId}) for sporbar.v1/dk-test-1` });
    const both = cp + signTreeHead(head, key).split('\n')[4]! + '\n';
    expect(verifyTreeHead(both, key).ok).toBe(true);
    expect(verifyTreeHead(both, other).ok).toBe(true);
  });

  it('accepts a C2SP cosigned checkpoint (cosignature/v1 lines are 72 bytes: ignored), but not a line of its own key of another length', () => {
    const cp = signTreeHead(head, key);
    const witness = createCosigner('witness.test/w1', generateKeyPairSync('ed25519').privateKey);
    const cosigned = `${cp}${witness.cosign(cp.slice(0, cp.indexOf('\n\n') + 1), 1_700_000_000n)}\n`;
    expect(cosigned.split('\n').filter((l) => l.startsWith('\u2014'))).toHaveLength(2);
    expect(verifyTreeHead(cosigned, key)).toMatchObject({ ok: true, treeHead: { treeSize: head.treeSize } });
    // Our own name and key ID over a blob that is not 4 + 64 bytes: malformed, whatever else is there.
    const ours = /^\u2014 (\S+) (\S+)$/m.exec(cp)!;
    const long = Buffer.concat([Buffer.from(ours[2]!, 'base64'), Buffer.alloc(8)]).toString('base64');
    expect(verifyTreeHead(`${cp}\u2014 ${ours[1]} ${long}\n`, key)).toEqual({ ok: false, reason: 'malformed signature line' });
    // A line that is only a key ID (no signature bytes) is malformed too.
    expect(verifyTreeHead(`${cp}\u2014 witness.test/w1 AAAAAA==\n`, key)).toEqual({ ok: false, reason: 'malformed signature line' });
  });

  it('a signer that answers with a promise (HSM, KMS, a command) signs through signTreeHeadAsync only', async () => {
    const remote: CheckpointSigner = { keyId: key.keyId, publicKeyRaw: key.publicKeyRaw, sign: async (m) => key.sign(m) };
    expect(await signTreeHeadAsync(head, remote)).toBe(signTreeHead(head, key));
    expect(() => signTreeHead(head, remote)).toThrow(/signTreeHeadAsync/);
    await expect(signTreeHeadAsync(head, { keyId: key.keyId, publicKeyRaw: key.publicKeyRaw, sign: async () => new Uint8Array(10) })).rejects.toMatchObject({ code: 'SPB_ERR_CONFIG' });
  });

  it('fails for a forged key id: another key signing under our id', () => {
    const other = generateSigningKey();
    const impostor: CheckpointSigner = { keyId: key.keyId, publicKeyRaw: key.publicKeyRaw, sign: (m) => other.sign(m) };
    expect(verifyTreeHead(signTreeHead(head, impostor), key)).toEqual({ ok: false, reason: 'the signature does not verify' });
  });

  it('rejects non-canonical or malformed text', () => {
    const cp = signTreeHead(head, key);
    const bad = {
      'no final newline': cp.slice(0, -1),
      'no blank line': cp.replace('\n\n', '\n'),
      'leading zero in size': cp.replace('\n1000\n', '\n01000\n'),
      'extension line': cp.replace('\n\n', '\nextra\n\n'),
      'root not base64': cp.replace(range.root().toString('base64'), 'not base64!'),
      'garbage signature line': `${cp}garbage\n`,
      'wrong origin prefix': cp.replaceAll('sporbar.v1/', 'sporbar.v2/'),
      'no signatures': cp.split('\n').slice(0, 4).join('\n') + '\n',
    };
    for (const [what, text] of Object.entries(bad)) expect(verifyTreeHead(text, key).ok, what).toBe(false);
  });
});

describe('keys', () => {
  it('the verifier key string is C2SP\'s: <name>+<hex key hash>+<base64(0x01 ‖ key)>', () => {
    const vkey = verifierKeyString('sporbar.v1/dk-test-1', key.publicKeyRaw);
    const [, name, hash, material] = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey)!;
    expect(name).toBe('sporbar.v1/dk-test-1');
    expect(hash).toBe(noteKeyId('sporbar.v1/dk-test-1', key.publicKeyRaw));
    expect(Buffer.from(material!, 'base64')).toEqual(Buffer.concat([Buffer.of(1), key.publicKeyRaw]));
  });

  it('keyId (the fingerprint, not what checkpoints carry) is the hex of the first 4 bytes of SHA-256 of the raw public key', () => {
    const expected = createHash('sha256').update(key.publicKeyRaw).digest().subarray(0, 4).toString('hex');
    expect(key.keyId).toBe(expected);
    expect(key.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(keyIdOf(RFC8032_PUBLIC)).toBe(createHash('sha256').update(RFC8032_PUBLIC).digest('hex').slice(0, 8));
  });

  it('loads the RFC 8032 test seed and derives its public key', () => {
    const loaded = loadSigningKey(RFC8032_SEED.toString('base64url'));
    expect(loaded.publicKeyRaw).toEqual(RFC8032_PUBLIC);
    expect(signingKeySeed(loaded)).toBe(RFC8032_SEED.toString('base64url'));
    // RFC 8032 TEST 1: the signature of the empty message.
    expect(Buffer.from(loaded.sign(new Uint8Array(0))).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('a seed, a PKCS#8 PEM and a KeyObject of the same key give the same key and checkpoints', () => {
    const fromSeed = loadSigningKey(signingKeySeed(key));
    const fromPem = loadSigningKey(key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const fromObject = loadSigningKey(key.privateKey);
    for (const k of [fromSeed, fromPem, fromObject]) {
      expect(k.keyId).toBe(key.keyId);
      expect(signTreeHead(head, k)).toBe(signTreeHead(head, key));
    }
    expect(loadVerifyingKey(publicKeyBase64url(key)).keyId).toBe(key.keyId);
  });

  it('bad key material is SPB_ERR_CONFIG', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const x25519 = generateKeyPairSync('x25519');
    const cases: [string, () => unknown][] = [
      ['empty seed', () => loadSigningKey('')],
      ['31-byte seed', () => loadSigningKey(Buffer.alloc(31, 1).toString('base64url'))],
      ['33-byte seed', () => loadSigningKey(Buffer.alloc(33, 1).toString('base64url'))],
      ['not base64url', () => loadSigningKey('this is not a key at all, not even close!!')],
      ['broken PEM', () => loadSigningKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')],
      ['RSA private PEM', () => loadSigningKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())],
      ['X25519 KeyObject', () => loadSigningKey(x25519.privateKey)],
      ['public key as signing key', () => loadSigningKey(key.publicKey)],
      ['RSA public PEM', () => loadVerifyingKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString())],
      ['short public key', () => loadVerifyingKey(Buffer.alloc(16).toString('base64url'))],
      ['private key as public key', () => loadVerifyingKey(key.privateKey)],
      ['verify with bad key', () => verifyTreeHead(signTreeHead(head, key), 'nope')],
      ['signer with a bad key id', () => signTreeHead(head, { keyId: 'xyz', publicKeyRaw: key.publicKeyRaw, sign: (m) => key.sign(m) })],
      ['signer without its public key', () => signTreeHead(head, { keyId: key.keyId, publicKeyRaw: Buffer.alloc(31), sign: (m) => key.sign(m) })],
      ['signer with a short signature', () => signTreeHead(head, { keyId: key.keyId, publicKeyRaw: key.publicKeyRaw, sign: () => new Uint8Array(10) })],
    ];
    for (const [what, f] of cases) {
      try {
        expectConfigError(f);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
  });
});
