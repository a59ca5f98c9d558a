import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomNonce } from './nonce.ts';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { SporbarError } from '@sporbar/common/errors';
import { normaliseCpr } from '@sporbar/schemas';
import { createCache } from '@sporbar/common/cache';

/**
 * Sealing the subject identifier to the ingest's public key, so no CPR number travels in clear.
 *
 * HPKE (RFC 9180, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM via @hpke/core) in its
 * secret-export form (RFC 9180 §5.3): a producer sets up one HPKE sender context per session and
 * exports a 256-bit session key from it; each identifier is then AES-256-GCM encrypted under that
 * key with a random nonce. The envelope carries the HPKE `enc` so the ingest can derive the same key
 * once per session and cache it. One X25519 operation per session instead of per event keeps the
 * cost per event at microseconds.
 *
 * Envelope (ASCII, the SubjectRef value with scheme SEALED): `s1.<enc>.<nonce>.<ciphertext+tag>`, base64url.
 */
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
const INFO = new TextEncoder().encode('sporbar/subject-seal/v1');
const EXPORT_LABEL = new TextEncoder().encode('sporbar subject session key');
const AAD = Buffer.from('sporbar subject v1');

export interface SealKeyPair {
  /** 32 raw bytes, base64url: goes to every producer. */
  readonly publicKey: string;
  /** 32 raw bytes, base64url: stays with the ingest. */
  readonly privateKey: string;
}

export async function generateSealKeyPair(): Promise<SealKeyPair> {
  const kp = await suite.kem.generateKeyPair();
  const pub = Buffer.from(await suite.kem.serializePublicKey(kp.publicKey));
  const priv = Buffer.from(await suite.kem.serializePrivateKey(kp.privateKey));
  return { publicKey: pub.toString('base64url'), privateKey: priv.toString('base64url') };
}

function keyBytes(value: string, what: string): Uint8Array {
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length !== 32) throw new SporbarError('SPB_ERR_CONFIG', `${what} must be 32 bytes (base64url), got ${bytes.length}`);
  return new Uint8Array(bytes);
}

export interface SubjectSealer {
  /**
   * Normalises and seals a CPR number; the result is safe to put on the wire. With `reuseFor` (a
   * value that already identifies the subject on the wire, such as its Kafka routing key, never the
   * CPR number itself) the envelope made for it earlier in the same seal session is returned again
   * instead of a new one: a repeat costs no encryption, and no CPR number is kept.
   */
  seal(cpr: string, options?: { reuseFor?: string }): Promise<string>;
  /** Seals other personal data (the details of a disclosure) the same way, as bytes: `S1 ‖ enc ‖ nonce ‖ ct+tag`. */
  sealBytes(plain: Uint8Array): Promise<Buffer>;
}

const BYTES_MAGIC = Buffer.from('S1');
/** A 32-byte HPKE enc as unpadded base64url. */
const ENC_TEXT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const BYTES_AAD = Buffer.from('sporbar details v1');

/**
 * @param sessionEvents how many identifiers one HPKE session seals before a new one starts.
 * @param reusedEnvelopes how many envelopes `seal(…, { reuseFor })` keeps (the ones used last).
 */
export function createSubjectSealer(publicKey: string, options: { sessionEvents?: number; reusedEnvelopes?: number } = {}): SubjectSealer {
  const sessionEvents = options.sessionEvents ?? 10_000;
  const reused = createCache<string, Promise<string>>(options.reusedEnvelopes ?? 16_384);
  const recipientPublicKey = suite.kem.deserializePublicKey(keyBytes(publicKey, 'the seal public key'));
  let session: Promise<{ enc: string; key: Buffer }> | undefined;
  let used = 0;
  const newSession = async () => {
    const ctx = await suite.createSenderContext({ recipientPublicKey: await recipientPublicKey, info: INFO });
    return { enc: Buffer.from(ctx.enc).toString('base64url'), key: Buffer.from(await ctx.export(EXPORT_LABEL, 32)) };
  };
  const encrypt = async (plain: Uint8Array, aad: Buffer) => {
    if (!session || used >= sessionEvents) {
      session = newSession();
      used = 0;
      reused.clear(); // envelopes are reused within their own session only
    }
    used++;
    const { enc, key } = await session;
    const nonce = randomNonce();
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    return { enc, nonce, ct: Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]) };
  };
  return {
    async seal(cpr, sealOptions = {}) {
      const normalised = normaliseCpr(cpr);
      const { reuseFor } = sealOptions;
      const earlier = reuseFor === undefined || used >= sessionEvents ? undefined : reused.get(reuseFor); // a used-up session reuses nothing
      if (earlier !== undefined) return earlier;
      const envelope = encrypt(Buffer.from(normalised, 'ascii'), AAD).then(({ enc, nonce, ct }) => `s1.${enc}.${nonce.toString('base64url')}.${ct.toString('base64url')}`);
      if (reuseFor !== undefined) {
        reused.set(reuseFor, envelope); // the promise: concurrent calls for one subject share it
        envelope.catch(() => reused.delete(reuseFor)); // a failure is not remembered
      }
      return envelope;
    },
    async sealBytes(plain) {
      const { enc, nonce, ct } = await encrypt(plain, BYTES_AAD);
      return Buffer.concat([BYTES_MAGIC, Buffer.from(enc, 'base64url'), nonce, ct]);
    },
  };
}

export interface SubjectOpener {
  /** The normalised CPR number inside an envelope; SPB_ERR_MALFORMED_BODY when it cannot be opened. */
  open(envelope: string): Promise<string>;
  /** The bytes inside a `sealBytes` envelope; SPB_ERR_MALFORMED_BODY when it cannot be opened. */
  openBytes(sealed: Uint8Array): Promise<Buffer>;
}

/**
 * @param options.previousPrivateKeys seal keys rotated out (SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS): an
 * envelope sealed to one of them still opens, so producers can switch to the new public key one by
 * one. Each new session then costs one HPKE derivation per key (only while previous keys are given).
 */
export function createSubjectOpener(privateKey: string, options: { cachedSessions?: number; previousPrivateKeys?: readonly string[] } = {}): SubjectOpener {
  const recipientKeys = [privateKey, ...(options.previousPrivateKeys ?? [])].map((k, i) =>
    suite.kem.deserializePrivateKey(keyBytes(k, i === 0 ? 'the seal private key' : 'a previous seal private key')),
  );
  // enc → the session key under each recipient key (current first)
  const sessions = createCache<string, Promise<Buffer[]>>(options.cachedSessions ?? 1024);
  const sessionKey = (enc: string): Promise<Buffer[]> => {
    let key = sessions.get(enc);
    if (!key) {
      key = Promise.all(
        recipientKeys.map(async (recipientKey) => {
          const ctx = await suite.createRecipientContext({ recipientKey: await recipientKey, enc: new Uint8Array(Buffer.from(enc, 'base64url')), info: INFO });
          return Buffer.from(await ctx.export(EXPORT_LABEL, 32));
        }),
      );
      key.catch(() => sessions.delete(enc));
      sessions.set(enc, key);
    }
    return key;
  };
  const fail = (what: string, why: string, cause?: unknown) =>
    new SporbarError('SPB_ERR_MALFORMED_BODY', `sealed ${what}: ${why}`, { cause, details: { path: what === 'subject' ? 'subject.value' : 'personalDetails' } });
  /** @param enc the HPKE enc in base64url: 43 characters, 32 bytes (checked by the callers). */
  const decrypt = async (what: string, enc: string, nonce: Buffer, ct: Buffer, aad: Buffer): Promise<Buffer> => {
    if (nonce.length !== 12 || ct.length < 17) throw fail(what, 'wrong part lengths');
    let keys: Buffer[];
    try {
      keys = await sessionKey(enc);
    } catch (cause) {
      throw fail(what, 'the session key cannot be derived', cause);
    }
    let failure: unknown;
    for (const key of keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad);
        decipher.setAuthTag(ct.subarray(ct.length - 16));
        const plain = decipher.update(ct.subarray(0, ct.length - 16));
        decipher.final(); // checks the tag (GCM has no output left): nothing is returned before it passes
        return plain;
      } catch (cause) {
        failure = cause;
      }
    }
    throw fail(what, 'authentication failed (wrong key or tampered envelope)', failure);
  };
  return {
    async open(envelope) {
      const parts = envelope.split('.');
      if (parts.length !== 4 || parts[0] !== 's1') throw fail('subject', 'not an s1 envelope');
      const [, enc, nonceText, ctText] = parts as [string, string, string, string];
      if (!ENC_TEXT.test(enc)) throw fail('subject', 'wrong part lengths');
      const plain = await decrypt('subject', enc, Buffer.from(nonceText, 'base64url'), Buffer.from(ctText, 'base64url'), AAD);
      return normaliseCpr(plain.toString('ascii'));
    },
    async openBytes(sealed) {
      const b = Buffer.from(sealed);
      if (b.length < 2 + 32 + 12 + 17 || !b.subarray(0, 2).equals(BYTES_MAGIC)) throw fail('details', 'not an S1 envelope');
      return decrypt('details', b.subarray(2, 34).toString('base64url'), b.subarray(34, 46), b.subarray(46), BYTES_AAD);
    },
  };
}
