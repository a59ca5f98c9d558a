import { createHmac } from 'node:crypto';
import { SporbarError } from '../errors.ts';
import { normaliseCpr } from './cpr.ts';

/**
 * The subject pseudonym: HMAC-SHA256 of the normalised CPR number under a secret key. A plain hash
 * would not do: there are few enough CPR numbers to hash them all. The key id is part of the
 * pseudonym so keys can be rotated while old pseudonyms stay findable (issue "privacy").
 */
export interface Pseudonymiser {
  readonly keyId: string;
  pseudonym(cpr: string): string;
}

export const PSEUDONYM_PATTERN = /^psn_[a-z0-9]{1,8}_[A-Za-z0-9_-]{43}$/;

export function createPseudonymiser(key: { id: string; secret: string }): Pseudonymiser {
  const secret = Buffer.from(key.secret, 'base64url');
  if (secret.length < 32) throw new SporbarError('SPB_ERR_CONFIG', `pseudonym key '${key.id}' must be at least 32 bytes, got ${secret.length}`);
  if (!/^[a-z0-9]{1,8}$/.test(key.id)) throw new SporbarError('SPB_ERR_CONFIG', `pseudonym key id must be 1-8 of [a-z0-9], got '${key.id}'`);
  return {
    keyId: key.id,
    pseudonym: (cpr) => `psn_${key.id}_${createHmac('sha256', secret).update(normaliseCpr(cpr)).digest('base64url')}`,
  };
}

/**
 * The partition key for Kafka: a short keyed hash, so one subject's events stay in one partition
 * without the key revealing who they are about.
 */
export function routingKey(cpr: string, routingSecret: Buffer): string {
  return createHmac('sha256', routingSecret).update(normaliseCpr(cpr)).digest('base64url').slice(0, 16);
}
