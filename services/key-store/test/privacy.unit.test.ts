import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomNonce } from '../src/nonce.ts';
import { isSporbarError } from '@sporbar/common/errors';
import { CPR_LIKE } from '@sporbar/schemas';
import { createPseudonymiser, createSubjectOpener, createSubjectSealer, generateSealKeyPair, PSEUDONYM_PATTERN, routingHasher, routingKey } from '../src/index.ts';

const secret = Buffer.alloc(32, 7).toString('base64url');

describe('sealed subject identifiers (HPKE export + AES-256-GCM)', () => {
  it('opens what it sealed and never shows the CPR number in the envelope', async () => {
    const keys = await generateSealKeyPair();
    const sealer = createSubjectSealer(keys.publicKey);
    const opener = createSubjectOpener(keys.privateKey);
    const a = await sealer.seal('010190-1234');
    const b = await sealer.seal('010190-1234');
    expect(a).toMatch(/^s1\.[\w-]{43}\.[\w-]{16}\.[\w-]+$/);
    expect(a).not.toBe(b); // random nonce: equal subjects are not linkable from the envelope
    expect(CPR_LIKE.test(a)).toBe(false);
    expect(await opener.open(a)).toBe('0101901234');
    expect(await opener.open(b)).toBe('0101901234');
  });

  it('starts a new HPKE session after sessionEvents identifiers', async () => {
    const keys = await generateSealKeyPair();
    const sealer = createSubjectSealer(keys.publicKey, { sessionEvents: 2 });
    const encs = [];
    for (let i = 0; i < 5; i++) encs.push((await sealer.seal('010190-1234')).split('.')[1]);
    expect(new Set(encs).size).toBe(3);
    const opener = createSubjectOpener(keys.privateKey, { cachedSessions: 1 });
    for (let i = 0; i < 3; i++) expect(await opener.open(await sealer.seal('311299-9999'))).toBe('3112999999');
  });

  it('reuses a subject\'s envelope within a session when asked (reuseFor), shared by concurrent calls, never across sessions', async () => {
    const keys = await generateSealKeyPair();
    const sealer = createSubjectSealer(keys.publicKey, { sessionEvents: 3 });
    const opener = createSubjectOpener(keys.privateKey);
    const concurrent = await Promise.all([1, 2, 3].map(() => sealer.seal('010190-1234', { reuseFor: 'rk-a' })));
    expect(new Set(concurrent).size).toBe(1); // one encryption for the three
    expect(await sealer.seal('0101901234', { reuseFor: 'rk-a' })).toBe(concurrent[0]);
    const other = await sealer.seal('020290-1234', { reuseFor: 'rk-b' });
    expect(other).not.toBe(concurrent[0]);
    expect(await sealer.seal('010190-1234')).not.toBe(concurrent[0]); // without reuseFor: a fresh envelope
    expect(await opener.open(concurrent[0]!)).toBe('0101901234');
    expect(await opener.open(other)).toBe('0202901234');
    // 3 encryptions so far: the next one starts a new session, and reuse starts over with it.
    const next = await sealer.seal('010190-1234', { reuseFor: 'rk-a' });
    expect(next.split('.')[1]).not.toBe(concurrent[0]!.split('.')[1]);
    expect(await sealer.seal('010190-1234', { reuseFor: 'rk-a' })).toBe(next);
    expect(await opener.open(next)).toBe('0101901234');
    // a malformed CPR number is refused before any reuse lookup
    await expect(sealer.seal('not a cpr', { reuseFor: 'rk-a' })).rejects.toMatchObject({ code: 'SPB_ERR_SCHEMA_INVALID' });
  });

  it('refuses a tampered envelope, the wrong key and garbage with a typed error', async () => {
    const keys = await generateSealKeyPair();
    const other = await generateSealKeyPair();
    const envelope = await createSubjectSealer(keys.publicKey).seal('010190-1234');
    const parts = envelope.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0]! ^= 1;
    const tampered = [...parts.slice(0, 3), ct.toString('base64url')].join('.');
    for (const [opener, env, reason] of [
      [createSubjectOpener(keys.privateKey), tampered, /authentication failed/],
      [createSubjectOpener(other.privateKey), envelope, /authentication failed/],
      [createSubjectOpener(keys.privateKey), 'psn_abc', /not an s1 envelope/],
      [createSubjectOpener(keys.privateKey), 's1.a.b.c', /wrong part lengths/],
    ] as const) {
      await expect(opener.open(env)).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_MALFORMED_BODY') && reason.test((e as Error).message));
    }
  });

  it('seals and opens other personal data as bytes, refusing tampering', async () => {
    const keys = await generateSealKeyPair();
    const sealed = await createSubjectSealer(keys.publicKey).sealBytes(Buffer.from('{"ipAddress":"192.0.2.7"}'));
    expect(sealed.subarray(0, 2).toString()).toBe('S1');
    expect(sealed.toString('latin1')).not.toContain('192.0.2.7');
    const opener = createSubjectOpener(keys.privateKey);
    expect((await opener.openBytes(sealed)).toString()).toBe('{"ipAddress":"192.0.2.7"}');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    await expect(opener.openBytes(tampered)).rejects.toThrow(/sealed details: authentication failed/);
    await expect(opener.openBytes(Buffer.from('S1short'))).rejects.toThrow(/not an S1 envelope/);
    // A subject envelope's bytes cannot be replayed as details (different AAD).
    const subject = await createSubjectSealer(keys.publicKey).seal('010190-1234');
    const [, enc, nonce, ct] = subject.split('.') as [string, string, string, string];
    const asBytes = Buffer.concat([Buffer.from('S1'), Buffer.from(enc, 'base64url'), Buffer.from(nonce, 'base64url'), Buffer.from(ct, 'base64url')]);
    await expect(opener.openBytes(asBytes)).rejects.toThrow(/authentication failed/);
  });

  it('opens envelopes sealed to a previous key while it is listed (seal key rotation), and only then', async () => {
    const [old, fresh] = [await generateSealKeyPair(), await generateSealKeyPair()];
    const rotating = createSubjectOpener(fresh.privateKey, { previousPrivateKeys: [old.privateKey] });
    const oldEnvelope = await createSubjectSealer(old.publicKey).seal('010190-1234');
    const newEnvelope = await createSubjectSealer(fresh.publicKey).seal('020290-2345');
    const oldBytes = await createSubjectSealer(old.publicKey).sealBytes(Buffer.from('details'));
    expect(await rotating.open(oldEnvelope)).toBe('0101901234');
    expect(await rotating.open(newEnvelope)).toBe('0202902345');
    expect((await rotating.openBytes(oldBytes)).toString()).toBe('details');
    const finished = createSubjectOpener(fresh.privateKey);
    await expect(finished.open(oldEnvelope)).rejects.toMatchObject({ code: 'SPB_ERR_MALFORMED_BODY' });
    expect(await finished.open(newEnvelope)).toBe('0202902345');
    expect(() => createSubjectOpener(fresh.privateKey, { previousPrivateKeys: ['c2hvcnQ'] })).toThrow(/previous seal private key must be 32 bytes/);
  });

  it('refuses keys of the wrong length at start', () => {
    expect(() => createSubjectSealer('c2hvcnQ')).toThrow(/32 bytes/);
  });
});

describe('pseudonyms (HMAC-SHA256)', () => {
  it('are stable per subject and key, different across keys, and carry the key id', () => {
    const p1 = createPseudonymiser({ id: 'k1', secret });
    const p2 = createPseudonymiser({ id: 'k2', secret: Buffer.alloc(32, 8).toString('base64url') });
    const a = p1.pseudonym('010190-1234');
    expect(a).toMatch(PSEUDONYM_PATTERN);
    expect(a.startsWith('psn_k1_')).toBe(true);
    expect(p1.pseudonym('0101901234')).toBe(a);
    expect(p1.pseudonym('010190-1235')).not.toBe(a);
    expect(p2.pseudonym('010190-1234').slice(7)).not.toBe(a.slice(7));
    // HMAC-SHA256(key=0x07*32, "0101901234"), computed independently with openssl
    expect(a).toBe('psn_k1_' + '2WnxWaoXFJ920hMgmSuDBag-ODjXF7OusS-fuBKjrY4');
  });

  it('refuse a short secret or a bad key id', () => {
    expect(() => createPseudonymiser({ id: 'k1', secret: 'c2hvcnQ' })).toThrow(/at least 32 bytes/);
    expect(() => createPseudonymiser({ id: 'K 1', secret })).toThrow(/key id/);
  });

  it('routing keys are short, stable and not the CPR number', () => {
    const rk = routingKey('010190-1234', Buffer.alloc(32, 1));
    expect(rk).toHaveLength(16);
    expect(routingKey('0101901234', Buffer.alloc(32, 1))).toBe(rk);
    expect(routingKey('0101901234', Buffer.alloc(32, 2))).not.toBe(rk);
    expect(routingHasher(Buffer.alloc(32, 1))('0101901234')).toBe(rk); // the producer's prepared form: the same key
    // HMAC-SHA256(key=0x01*32, "0101901234"), base64url, first 16 characters, computed independently with node:crypto
    expect(rk).toBe(createHmac('sha256', Buffer.alloc(32, 1)).update('0101901234').digest('base64url').slice(0, 16));
  });
});

describe('nonces from the random pool', () => {
  it('are 12 bytes, independent copies, and never repeat across pool refills', () => {
    const seen = new Set<string>();
    const first = randomNonce();
    const copy = Buffer.from(first);
    for (let i = 0; i < 20_000; i++) seen.add(randomNonce().toString('hex')); // ~5 refills of the 4,096-nonce pool
    expect(seen.size).toBe(20_000);
    expect(first.equals(copy)).toBe(true); // a refill does not change a nonce already handed out
    expect(first).toHaveLength(12);
  });
});
