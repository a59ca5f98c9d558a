import { createHmac } from 'node:crypto';
import { saltFromSecret, type SaltOf } from './tree.ts';

/**
 * The subject map's key (SPORBAR_SUBJECT_MAP_KEY, ≥ 32 bytes): a subject's map index is a keyed hash
 * of their pseudonym, so the map's indexes say nothing about who is in it to anyone without the key
 * (pseudonyms are themselves keyed hashes of the CPR number, and are never published). The salt that
 * blinds each subject's chain comes from the same key (`saltFromSecret`).
 *
 *   index(pseudonym) = HMAC-SHA-256(key, "sporbar/subject-map/v1 index" ‖ pseudonym)
 *   salt(index)      = HMAC-SHA-256(key, "sporbar/subject-map/v1 salt" ‖ index)
 *
 * The index is per pseudonym: after a pseudonym-key rotation a subject has an old and a new
 * pseudonym, hence two indexes, and a report carries a map proof for each (both answer).
 * Holders of the key: the log service (it builds the map), the access API (it asks for a citizen's
 * proofs) and the auditor (it recomputes the map); never a citizen, never a producer.
 */
export interface SubjectMapKeys {
  readonly indexOf: (pseudonym: string) => Buffer;
  readonly saltOf: SaltOf;
}

export const SUBJECT_MAP_KEY_MIN_BYTES = 32;

export function subjectMapKeys(secret: Uint8Array): SubjectMapKeys {
  if (!(secret instanceof Uint8Array) || secret.length < SUBJECT_MAP_KEY_MIN_BYTES) throw new RangeError(`the subject map key must be at least ${SUBJECT_MAP_KEY_MIN_BYTES} bytes`);
  const key = Buffer.from(secret);
  return {
    indexOf: (pseudonym) => createHmac('sha256', key).update('sporbar/subject-map/v1 index').update(pseudonym, 'utf8').digest(),
    saltOf: saltFromSecret(key),
  };
}
