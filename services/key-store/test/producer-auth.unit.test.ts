import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { parseProducerRegistry, processingRegister } from '@sporbar/schemas';
import {
  authenticatedBytes,
  createProducerSigner,
  createProducerVerifier,
  DEVELOPMENT_PRODUCER_REGISTRY_FILE,
  developmentCredential,
  developmentProducerKey,
  developmentProducerRegistry,
  formatProducerKey,
  HEADER_AUTH,
  HEADER_KEY_ID,
  HEADER_PRODUCER,
  parseProducerKey,
  preparedHmac,
} from '../src/index.ts';

const registry = parseProducerRegistry({
  producers: [
    { id: 'mitid-core', name: 'MitID', keys: [developmentCredential('mitid-core'), developmentCredential('mitid-core', 'hmac-sha256', 'k2')], eventTypes: ['DisclosureRecorded'], activities: ['mitid-core'] },
    { id: 'privacy-desk', name: 'Privacy desk', keys: [developmentCredential('privacy-desk', 'ed25519')], eventTypes: ['ErasureRequested'], activities: '*' },
  ],
});
const verify = createProducerVerifier(registry);
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isSporbarError(e)) return e.code;
    throw e;
  }
  return 'ok';
};

describe.each(['hmac-sha256', 'ed25519'] as const)('producer authenticators (%s)', (algorithm) => {
  const producerId = algorithm === 'ed25519' ? 'privacy-desk' : 'mitid-core';
  const sign = createProducerSigner(developmentProducerKey(producerId, algorithm));
  const event = Buffer.from('c301 the single-object encoding, with its eventId 7f1c…');
  const other = Buffer.from('c301 the single-object encoding, with its eventId 0a2b…');

  it('verifies over exactly the bytes, the producer id and the key id', () => {
    const headers = sign(event);
    expect(headers[HEADER_PRODUCER]).toBe(producerId);
    expect(headers[HEADER_KEY_ID]).toBe('dev1');
    expect(verify(event, headers)).toBe(producerId);
    expect(codeOf(() => verify(other, headers))).toBe('SPB_ERR_BAD_AUTHENTICATOR'); // replayed on another event
    const flipped = Buffer.from(event);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
    expect(codeOf(() => verify(flipped, headers))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    expect(codeOf(() => verify(event.subarray(0, -1), headers))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
  });

  it('refuses a missing, malformed or foreign authenticator, an unknown key id and an unknown producer', () => {
    const headers = sign(event);
    expect(codeOf(() => verify(event, {}))).toBe('SPB_ERR_UNKNOWN_PRODUCER');
    expect(codeOf(() => verify(event, { ...headers, [HEADER_PRODUCER]: 'nemkonto' }))).toBe('SPB_ERR_UNKNOWN_PRODUCER');
    expect(codeOf(() => verify(event, { [HEADER_PRODUCER]: producerId }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    expect(codeOf(() => verify(event, { ...headers, [HEADER_AUTH]: 'not base64url!' }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    expect(codeOf(() => verify(event, { ...headers, [HEADER_AUTH]: '' }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    expect(codeOf(() => verify(event, { ...headers, [HEADER_KEY_ID]: 'k9' }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    // Another producer's valid authenticator, relabelled: the producer id is covered.
    const foreign = createProducerSigner(developmentProducerKey(producerId === 'mitid-core' ? 'privacy-desk' : 'mitid-core', algorithm))(event);
    expect(codeOf(() => verify(event, { ...foreign, [HEADER_PRODUCER]: producerId, [HEADER_KEY_ID]: 'dev1' }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
    // A key that is not the registered one (same producer id and key id).
    const wrong = createProducerSigner({ producerId, keyId: 'dev1', algorithm, secret: Buffer.alloc(32, 1).toString('base64url') })(event);
    expect(codeOf(() => verify(event, wrong))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
  });
});

describe('producer keys', () => {
  it('rotation: each key id verifies only its own authenticators', () => {
    const event = Buffer.from('bytes');
    const k2 = createProducerSigner(developmentProducerKey('mitid-core', 'hmac-sha256', 'k2'))(event);
    expect(verify(event, k2)).toBe('mitid-core');
    expect(codeOf(() => verify(event, { ...k2, [HEADER_KEY_ID]: 'dev1' }))).toBe('SPB_ERR_BAD_AUTHENTICATOR');
  });

  it('the prepared HMAC equals node:crypto HMAC-SHA256, for every length and for keys longer than a block', () => {
    for (const keyLength of [32, 64, 65, 100]) {
      const secret = randomBytes(keyLength);
      const head = Buffer.from('sporbar-producer-auth-v1\0p\0k\0');
      const mac = preparedHmac(secret, head);
      for (const n of [0, 1, 500, 2047, 2048, 5000, 100]) {
        const value = randomBytes(n);
        expect(mac(value).toString('hex')).toBe(createHmac('sha256', secret).update(head).update(value).digest('hex'));
      }
    }
  });

  it('the covered bytes are domain-separated and unambiguous', () => {
    expect(authenticatedBytes('a', 'b', Buffer.from('c')).toString('latin1')).toBe('sporbar-producer-auth-v1\0a\0b\0c');
  });

  it('parses and formats a configured key, and refuses a malformed one', () => {
    const key = developmentProducerKey('sporbar-access-api', 'ed25519');
    expect(parseProducerKey('sporbar-access-api', formatProducerKey(key))).toEqual(key);
    for (const bad of ['', 'hmac-sha256:k1', 'rsa:k1:AAAA', `hmac-sha256:k1:${Buffer.alloc(16).toString('base64url')}`, `ed25519:k1:${Buffer.alloc(31).toString('base64url')}`]) {
      expect(codeOf(() => parseProducerKey('p', bad))).toBe('SPB_ERR_CONFIG');
    }
  });

  it('the development registry file holds exactly the derived development keys (tools/gen-dev-producers.ts), and is marked development', () => {
    const dev = developmentProducerRegistry();
    expect(dev.development).toBe(true);
    const doc = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as { producers: Array<{ id: string; keys: Array<{ keyId: string; algorithm: 'hmac-sha256' | 'ed25519' }> }> };
    for (const p of doc.producers) for (const k of p.keys) expect(k).toEqual(developmentCredential(p.id, k.algorithm, k.keyId));
    expect(parseProducerRegistry(doc, processingRegister).producers.length).toBe(doc.producers.length);
    const dv = createProducerVerifier(dev);
    for (const p of dev.producers) {
      const k = p.keys[0]!;
      expect(dv(Buffer.from('x'), createProducerSigner(developmentProducerKey(p.id, k.algorithm, k.keyId))(Buffer.from('x')))).toBe(p.id);
    }
  });
});
