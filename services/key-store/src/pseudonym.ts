import { hmacSha256Base64url } from './hmac.ts';
import { SporbarError } from '@sporbar/common/errors';
import { normaliseCpr } from '@sporbar/schemas';

/**
 * The subject pseudonym: HMAC-SHA256 of the normalised CPR number under a secret key. A plain hash
 * would not do: there are few enough CPR numbers to hash them all. The key id is part of the
 * pseudonym so keys can be rotated while old pseudonyms stay findable (issue "privacy").
 */
export interface Pseudonymiser {
  readonly keyId: string;
  /** The pseudonym under the current key: what new events are stored under. */
  pseudonym(cpr: string): string;
  /**
   * The pseudonyms under the current and every previous key, current first: after a rotation the
   * access API looks a citizen up under all of them, so events stored before stay findable.
   */
  all(cpr: string): string[];
}

export const PSEUDONYM_PATTERN = /^psn_[a-z0-9]{1,8}_[A-Za-z0-9_-]{43}$/;

function hmacKey(key: { id: string; secret: string }): (cpr: string) => string {
  const secret = Buffer.from(key.secret, 'base64url');
  if (secret.length < 32) throw new SporbarError('SPB_ERR_CONFIG', `pseudonym key '${key.id}' must be at least 32 bytes, got ${secret.length}`);
  if (!/^[a-z0-9]{1,8}$/.test(key.id)) throw new SporbarError('SPB_ERR_CONFIG', `pseudonym key id must be 1-8 of [a-z0-9], got '${key.id}'`);
  const hmac = hmacSha256Base64url(secret);
  return (normalised) => `psn_${key.id}_${hmac(normalised)}`;
}

/** @param previous keys rotated out, still used to find what was stored under them. */
export function createPseudonymiser(key: { id: string; secret: string }, previous: ReadonlyArray<{ id: string; secret: string }> = []): Pseudonymiser {
  const ids = [key.id, ...previous.map((k) => k.id)];
  if (new Set(ids).size !== ids.length) throw new SporbarError('SPB_ERR_CONFIG', 'pseudonym key ids must be distinct across the current and previous keys');
  const current = hmacKey(key);
  const older = previous.map(hmacKey);
  return {
    keyId: key.id,
    pseudonym: (cpr) => current(normaliseCpr(cpr)),
    all: (cpr) => {
      const n = normaliseCpr(cpr);
      return [current(n), ...older.map((h) => h(n))];
    },
  };
}

/** `id:secret,id:secret` (SPORBAR_PSEUDONYM_PREVIOUS_KEYS) → keys. */
export function parsePreviousPseudonymKeys(value: string | undefined): Array<{ id: string; secret: string }> {
  if (!value?.trim()) return [];
  return value.split(',').map((pair) => {
    const [id, secret] = pair.trim().split(':');
    if (!id || !secret) throw new SporbarError('SPB_ERR_CONFIG', 'SPORBAR_PSEUDONYM_PREVIOUS_KEYS must be id:secret pairs separated by commas');
    return { id, secret };
  });
}
