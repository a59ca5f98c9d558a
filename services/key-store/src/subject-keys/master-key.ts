import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { randomNonce } from '../nonce.ts';
import { SporbarError } from '@sporbar/common/errors';
import { DATA_KEY_ID_PATTERN } from './envelope.ts';

/**
 * The master key wraps every subject's data key; only wrapped data keys are stored.
 *
 * Wrapping is AES-256-GCM with a random nonce rather than AES-KW (RFC 3394): the AAD binds a wrapped
 * key to its master key id, its data key id and its subject, so a wrapped key copied into another row
 * does not unwrap, and the master key id stored next to it cannot be swapped unnoticed.
 *
 * Wrapped key, version 1 (61 bytes): `0x01 ‖ nonce (12) ‖ encrypted data key (32) ‖ tag (16)`.
 *
 * The master key id lets masters rotate: `rewrap` moves a data key from one master to the next
 * without touching the blobs, which name only the data key id.
 */
export interface MasterKey {
  /** 1-8 of [a-z0-9], stored with each wrapped key. */
  readonly id: string;
  readonly key: Buffer;
}

/** The master key as configuration gives it: an id and 32 bytes in base64url. */
export interface MasterKeyConfig {
  readonly id?: string | undefined;
  readonly secret?: string | undefined;
}

export const MASTER_KEY_ID_PATTERN = /^[a-z0-9]{1,8}$/;
const WRAP_VERSION = 0x01;
const WRAP_HEADER = Buffer.from([WRAP_VERSION]); // concat copies it: one shared buffer, not a new one per key
const NONCE = 12;
const TAG = 16;
export const WRAPPED_KEY_BYTES = 1 + NONCE + 32 + TAG;
const DOMAIN = 'sporbar/subject-key/v1';

const config = (message: string) => new SporbarError('SPB_ERR_CONFIG', message);

/**
 * Checks and decodes a master key from configuration. Missing, not base64url, not exactly 32 bytes,
 * or an obvious placeholder (all bytes the same) → SPB_ERR_CONFIG. Messages never echo the secret.
 */
export function parseMasterKey(cfg: MasterKeyConfig, what = 'the master key (SPORBAR_MASTER_KEY)'): MasterKey {
  const id = cfg.id ?? '';
  if (!MASTER_KEY_ID_PATTERN.test(id)) throw config(`${what}: the master key id must be 1-8 of [a-z0-9], got '${id.slice(0, 16)}'`);
  const secret = (cfg.secret ?? '').trim();
  if (!secret) throw config(`${what} is missing: give 32 random bytes in base64url (43 characters)`);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(secret)) {
    throw config(`${what} is not base64url: only A-Z a-z 0-9 - _ are allowed (32 random bytes, 43 characters)`);
  }
  const key = Buffer.from(secret, 'base64url');
  if (key.length !== 32) throw config(`${what} must be 32 bytes (base64url, 43 characters), got ${key.length} bytes`);
  if (key.every((b) => b === key[0])) throw config(`${what} is a placeholder (every byte the same): give 32 random bytes`);
  return { id, key };
}

/**
 * `id:secret,id:secret` (SPORBAR_MASTER_PREVIOUS_KEYS: masters being rotated out, which still unwrap
 * the data keys not yet re-wrapped) → keys, each checked as `parseMasterKey` does.
 */
export function parsePreviousMasterKeys(value: string | undefined): MasterKey[] {
  if (!value?.trim()) return [];
  return value.split(',').filter((pair) => pair.trim()).map((pair) => {
    const [id, secret, ...rest] = pair.trim().split(':');
    if (!id || !secret || rest.length > 0) throw config('previous master keys are id:secret pairs separated by commas');
    return parseMasterKey({ id, secret }, `the previous master key '${id.slice(0, 8)}'`);
  });
}

/** 32 random bytes in base64url: a new master key secret for configuration. */
export function generateMasterKeySecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Data key ids: `dk_`, the creation time (milliseconds since 1970, 12 hex digits) and 12 random bytes
 * (base64url, 16 characters). They reveal nothing about the subject; the time prefix (which the row's
 * `created_at` holds anyway) makes them grow with time, so the key table's primary key takes new keys
 * at its right edge instead of on a random page of an index as large as the table (at 2M keys, 3
 * random index inserts per key cost 40 µs, this layout 16 µs). 96 random bits per millisecond keep
 * two ids apart; the primary key would refuse a repeat rather than overwrite.
 */
const ID_RANDOM_BYTES = 12;
const idOf = (time: number, random: Buffer, at: number): string => `dk_${time.toString(16).padStart(12, '0')}${random.toString('base64url', at, at + ID_RANDOM_BYTES)}`;

/** A fresh data key id (see above). */
export function newDataKeyId(): string {
  return idOf(Date.now(), randomBytes(ID_RANDOM_BYTES), 0);
}

/**
 * `count` fresh data keys with their ids, from one call of the CSPRNG (the ingest creates a batch's
 * keys together; one `randomBytes` per key and per id cost more than the wrapping). Each key is its
 * own copy; the shared random buffer is zeroed before this returns.
 */
export function newDataKeys(count: number): Array<{ id: string; key: Buffer }> {
  const PER_KEY = ID_RANDOM_BYTES + 32;
  const random = randomBytes(PER_KEY * count);
  const now = Date.now();
  try {
    return Array.from({ length: count }, (_, i) => ({
      id: idOf(now, random, i * PER_KEY),
      key: Buffer.from(random.subarray(i * PER_KEY + ID_RANDOM_BYTES, (i + 1) * PER_KEY)),
    }));
  } finally {
    random.fill(0);
  }
}

/** What a wrapped key is bound to besides its master: its own id and its subject. */
export interface WrapContext {
  readonly keyId: string;
  readonly subject: string;
}

function aad(masterId: string, ctx: WrapContext): Buffer {
  if (!DATA_KEY_ID_PATTERN.test(ctx.keyId)) throw config('a data key id must be 1-64 of [A-Za-z0-9_-]');
  return Buffer.from(`${DOMAIN}\0${masterId}\0${ctx.keyId}\0${ctx.subject}`, 'utf8');
}

export function wrapDataKey(master: MasterKey, dataKey: Buffer, ctx: WrapContext): Buffer {
  if (dataKey.length !== 32) throw config(`a data key must be 32 bytes, got ${dataKey.length}`);
  const nonce = randomNonce();
  const cipher = createCipheriv('aes-256-gcm', master.key, nonce).setAAD(aad(master.id, ctx));
  return Buffer.concat([WRAP_HEADER, nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
}

/**
 * The data key inside a wrapped key. A wrapped key that does not open under this master is a
 * configuration fault (wrong master secret, or a row damaged or moved): SPB_ERR_CONFIG.
 */
export function unwrapDataKey(master: MasterKey, wrapped: Uint8Array, ctx: WrapContext): Buffer {
  const w = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (w.length !== WRAPPED_KEY_BYTES || w[0] !== WRAP_VERSION) {
    throw config(`the wrapped data key '${ctx.keyId}' is not a version-1 wrapped key of ${WRAPPED_KEY_BYTES} bytes`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', master.key, w.subarray(1, 1 + NONCE))
      .setAAD(aad(master.id, ctx))
      .setAuthTag(w.subarray(w.length - TAG));
    return Buffer.concat([decipher.update(w.subarray(1 + NONCE, w.length - TAG)), decipher.final()]);
  } catch (e) {
    throw new SporbarError(
      'SPB_ERR_CONFIG',
      `the data key '${ctx.keyId}' does not unwrap under master key '${master.id}': wrong master secret, or the row was altered or moved`,
      { cause: e },
    );
  }
}

/** Moves a wrapped data key from one master to another (master rotation). */
export function rewrap(wrapped: Uint8Array, from: MasterKey, to: MasterKey, ctx: WrapContext): Buffer {
  return wrapDataKey(to, unwrapDataKey(from, wrapped, ctx), ctx);
}
