/**
 * Producer authenticators: how each event proves through Kafka which producer wrote it. Kafka does
 * not stamp the writer's identity on a record, so the producer SDK adds three headers:
 *
 *   sporbar-producer  the producer id (the registry's)
 *   sporbar-key-id    which of its keys
 *   sporbar-auth      base64url authenticator over
 *                     "sporbar-producer-auth-v1" 0x00 producerId 0x00 keyId 0x00 <the record value>
 *
 * The record value is the Avro single-object encoding the ingest decodes (it contains the eventId),
 * so an authenticator taken from another event, or from another producer or key, does not verify.
 * HMAC-SHA256 (a per-producer secret the ingest holds too) or Ed25519 (the ingest and an auditor
 * hold only the public key): docs/architecture.md, "Producer authentication", has the figures.
 */
import { createHash, createPrivateKey, createPublicKey, hash, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { SporbarError } from '@sporbar/common/errors';
import type { ProducerCredential, ProducerKeyAlgorithm, ProducerRegistry } from '@sporbar/schemas';
import { findProducer } from '@sporbar/schemas';

export const HEADER_PRODUCER = 'sporbar-producer';
export const HEADER_KEY_ID = 'sporbar-key-id';
export const HEADER_AUTH = 'sporbar-auth';

const DOMAIN = Buffer.from('sporbar-producer-auth-v1\0', 'latin1');

/** A producer's signing key, as the producer holds it. `secret`: the HMAC key, or the raw 32-byte Ed25519 seed; base64url. */
export interface ProducerKey {
  readonly producerId: string;
  readonly keyId: string;
  readonly algorithm: ProducerKeyAlgorithm;
  readonly secret: string;
}

/** The bytes an authenticator covers (domain prefix, producer id, key id, the record value). */
export function authenticatedBytes(producerId: string, keyId: string, value: Uint8Array): Buffer {
  const head = Buffer.from(`${producerId}\0${keyId}\0`, 'utf8');
  return Buffer.concat([DOMAIN, head, value]);
}

// PKCS#8 and SPKI wrappers of raw Ed25519 keys (RFC 8410), so node:crypto takes raw 32-byte keys.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export const ed25519PrivateKey = (seed: Buffer): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
export const ed25519PublicKey = (raw: Buffer): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });

/** The raw public key (base64url) of an Ed25519 seed: what goes into the registry. */
export function ed25519PublicKeyOf(seed: string): string {
  const spki = createPublicKey(ed25519PrivateKey(Buffer.from(seed, 'base64url'))).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519.length).toString('base64url');
}

function checkKey(key: ProducerKey): Buffer {
  const secret = Buffer.from(key.secret, 'base64url');
  if (key.algorithm === 'ed25519' ? secret.length !== 32 : secret.length < 32) {
    throw new SporbarError('SPB_ERR_CONFIG', `the producer key of ${key.producerId} (${key.keyId}) must be ${key.algorithm === 'ed25519' ? 'a 32-byte Ed25519 seed' : '≥ 32 bytes'}, base64url`);
  }
  return secret;
}

/**
 * HMAC-SHA256 (RFC 2104) of `head ‖ value` under one secret: the same bytes as
 * `createHmac('sha256', secret).update(head).update(value).digest()`, as two one-shot hashes with the
 * padded key blocks and the head prepared once (a Node Hmac object costs more to set up than hashing
 * a 500-byte event; see hmac.ts). Synchronous, so one scratch buffer serves every call.
 */
export function preparedHmac(secret: Uint8Array, head: Uint8Array): (value: Uint8Array) => Buffer {
  const key = secret.length > 64 ? hash('sha256', secret, 'buffer') : Buffer.from(secret);
  const start = 64 + head.length;
  let inner = Buffer.alloc(start + 2048, 0x36); // (key ⊕ ipad) ‖ head ‖ value
  const outer = Buffer.alloc(64 + 32, 0x5c); // (key ⊕ opad) ‖ inner hash
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  key.fill(0);
  inner.set(head, 64);
  return (value) => {
    if (start + value.length > inner.length) {
      const bigger = Buffer.alloc(start + value.length);
      inner.copy(bigger, 0, 0, start);
      inner = bigger;
    }
    inner.set(value, start);
    outer.write(hash('sha256', inner.subarray(0, start + value.length), 'binary'), 64, 'binary');
    return hash('sha256', outer, 'buffer') as unknown as Buffer;
  };
}

/** The headers a producer adds to one record value. */
export type ProducerSigner = (value: Uint8Array) => { readonly [HEADER_PRODUCER]: string; readonly [HEADER_KEY_ID]: string; readonly [HEADER_AUTH]: string };

export function createProducerSigner(key: ProducerKey): ProducerSigner {
  const secret = checkKey(key);
  const { producerId, keyId } = key;
  const head = Buffer.concat([DOMAIN, Buffer.from(`${producerId}\0${keyId}\0`, 'utf8')]);
  if (key.algorithm === 'hmac-sha256') {
    const mac = preparedHmac(secret, head);
    return (value) => ({
      [HEADER_PRODUCER]: producerId,
      [HEADER_KEY_ID]: keyId,
      [HEADER_AUTH]: mac(value).toString('base64url'),
    });
  }
  const privateKey = ed25519PrivateKey(secret);
  return (value) => ({
    [HEADER_PRODUCER]: producerId,
    [HEADER_KEY_ID]: keyId,
    [HEADER_AUTH]: sign(null, Buffer.concat([head, value]), privateKey).toString('base64url'),
  });
}

type Check = (value: Uint8Array, auth: Buffer) => boolean;

function checkerOf(producerId: string, credential: ProducerCredential): Check {
  const head = Buffer.concat([DOMAIN, Buffer.from(`${producerId}\0${credential.keyId}\0`, 'utf8')]);
  if (credential.algorithm === 'hmac-sha256') {
    const mac = preparedHmac(Buffer.from(credential.secret, 'base64url'), head);
    return (value, auth) => auth.length === 32 && timingSafeEqual(mac(value), auth);
  }
  const publicKey = ed25519PublicKey(Buffer.from(credential.publicKey, 'base64url'));
  return (value, auth) => auth.length === 64 && verify(null, Buffer.concat([head, value]), publicKey, auth);
}

const AUTH_PATTERN = /^[A-Za-z0-9_-]{43,86}$/;

/**
 * The ingest's check: which producer wrote this record value, proven by its headers against the
 * registry. Throws SPB_ERR_UNKNOWN_PRODUCER (no or unknown `sporbar-producer`) or
 * SPB_ERR_BAD_AUTHENTICATOR (missing/malformed authenticator, key id not listed, no match).
 * Verifying keys are made once per producer and key id.
 */
export function createProducerVerifier(registry: ProducerRegistry): (value: Uint8Array, headers: Readonly<Record<string, string>>) => string {
  const checks = new Map<string, Check>();
  const checkFor = (producerId: string, keyId: string): Check | undefined => {
    const id = `${producerId}\0${keyId}`;
    let check = checks.get(id);
    if (check === undefined) {
      const credential = findProducer(registry, producerId)?.keys.find((k) => k.keyId === keyId);
      if (!credential) return undefined;
      checks.set(id, (check = checkerOf(producerId, credential)));
    }
    return check;
  };
  return (value, headers) => {
    const producerId = headers[HEADER_PRODUCER];
    if (producerId === undefined || producerId === '') throw new SporbarError('SPB_ERR_UNKNOWN_PRODUCER', `the event names no producer (header ${HEADER_PRODUCER})`);
    if (!findProducer(registry, producerId)) throw new SporbarError('SPB_ERR_UNKNOWN_PRODUCER', `producer ${JSON.stringify(producerId.slice(0, 64))} is not in the producer registry`, { details: { producer: producerId.slice(0, 64) } });
    const keyId = headers[HEADER_KEY_ID];
    const auth = headers[HEADER_AUTH];
    if (keyId === undefined || auth === undefined) throw new SporbarError('SPB_ERR_BAD_AUTHENTICATOR', `producer ${producerId}: the event carries no authenticator (headers ${HEADER_KEY_ID}, ${HEADER_AUTH})`, { details: { producer: producerId } });
    const check = checkFor(producerId, keyId);
    if (!check) throw new SporbarError('SPB_ERR_BAD_AUTHENTICATOR', `producer ${producerId}: key id ${JSON.stringify(keyId.slice(0, 32))} is not in the producer registry`, { details: { producer: producerId } });
    if (!AUTH_PATTERN.test(auth) || !check(value, Buffer.from(auth, 'base64url'))) {
      throw new SporbarError('SPB_ERR_BAD_AUTHENTICATOR', `producer ${producerId}: the authenticator does not verify over this event (key ${keyId})`, { details: { producer: producerId, keyId } });
    }
    return producerId;
  };
}

// ---- development keys (public, like the access API's dev key pair): npm start and the tests ----

const DEV_LABEL = 'sporbar development producer key v1';

/** The development key of a producer: derived from its id and key id, so anyone can make it. Never for production. */
export function developmentProducerKey(producerId: string, algorithm: ProducerKeyAlgorithm = 'hmac-sha256', keyId = 'dev1'): ProducerKey {
  const secret = createHash('sha256').update(`${DEV_LABEL}\0${algorithm}\0${producerId}\0${keyId}`).digest('base64url');
  return { producerId, keyId, algorithm, secret };
}

/** The registry credential of a development key. */
export function developmentCredential(producerId: string, algorithm: ProducerKeyAlgorithm = 'hmac-sha256', keyId = 'dev1'): ProducerCredential {
  const key = developmentProducerKey(producerId, algorithm, keyId);
  return algorithm === 'ed25519' ? { keyId, algorithm, publicKey: ed25519PublicKeyOf(key.secret) } : { keyId, algorithm, secret: key.secret };
}

/**
 * Parses a producer key given as configuration: `<algorithm>:<keyId>:<base64url secret or seed>`,
 * e.g. `hmac-sha256:k2026:…`.
 */
export function parseProducerKey(producerId: string, text: string): ProducerKey {
  const m = /^(hmac-sha256|ed25519):([A-Za-z0-9._-]{1,32}):([A-Za-z0-9_-]+)$/.exec(text);
  if (!m) throw new SporbarError('SPB_ERR_CONFIG', 'a producer key is <algorithm>:<keyId>:<base64url secret> with algorithm hmac-sha256 or ed25519');
  const key: ProducerKey = { producerId, algorithm: m[1] as ProducerKeyAlgorithm, keyId: m[2]!, secret: m[3]! };
  checkKey(key);
  return key;
}

export const formatProducerKey = (key: ProducerKey): string => `${key.algorithm}:${key.keyId}:${key.secret}`;
