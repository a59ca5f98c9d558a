import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomNonce } from '../nonce.ts';
import { SporbarError } from '@sporbar/common/errors';

/**
 * Personal details of a disclosure, encrypted under the subject's data key (AES-256-GCM).
 *
 * Codes (recipient, purpose, basis, categories, time) stay in clear in the event; the details that
 * identify or describe the person (IP address, account number, benefit type, free text, phone, e-mail,
 * survey comment) go into `DisclosureRecorded.personalDetails` as this blob. Destroying the subject's data key
 * (crypto-shredding) makes every blob of theirs unreadable while the stored bytes, and so the Merkle
 * log over them, stay the same.
 *
 * Blob, version 1:
 *
 *     0x01 ‖ keyIdLength (1 byte) ‖ keyId (ASCII [A-Za-z0-9_-]) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 *
 * - plaintext: canonical JSON of the details (fields in `DETAIL_FIELDS` order, absent fields left out),
 *   padded with spaces (which JSON.parse ignores) to a multiple of 64 bytes, so the length of the blob
 *   does not tell one benefit type from another;
 * - AAD: a domain label, the header (version and key id) and the length-prefixed eventId (lower case)
 *   and subject pseudonym, so a blob cannot be moved to another event or another subject, nor be
 *   relabelled with another key id.
 *
 * Every failure to open a blob (bad version, truncated, wrong key, wrong AAD, any flipped bit) is one
 * `SPB_ERR_MALFORMED_BODY`; messages never contain the details.
 */

export interface PersonalDetails {
  ipAddress?: string;
  accountNumber?: string;
  benefitType?: string;
  freeText?: string;
  phoneNumber?: string;
  email?: string;
  /**
   * The citizen's comment in a customer satisfaction survey (category `survey-comment`, which the
   * support activities' survey flows declare). Not `freeText`: that is the text of a written inquiry.
   */
  surveyComment?: string;
}

export type DetailField = keyof PersonalDetails;

/** Every detail field, in the order the canonical plaintext lists them (alphabetical). */
export const DETAIL_FIELDS = [
  'accountNumber',
  'benefitType',
  'email',
  'freeText',
  'ipAddress',
  'phoneNumber',
  'surveyComment',
] as const satisfies readonly DetailField[];
const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>(DETAIL_FIELDS);

/**
 * The processing-register data category (`register.dataCategories[].id`) each detail field is an
 * instance of. A disclosure carrying a detail should declare its category in `dataCategories`.
 */
export const DETAIL_CATEGORY = {
  ipAddress: 'ip-address',
  accountNumber: 'bank-account-information',
  benefitType: 'type-of-benefit',
  freeText: 'written-inquiry',
  phoneNumber: 'phone-number',
  email: 'email-address',
  surveyComment: 'survey-comment',
} as const satisfies Record<DetailField, string>;

/** The register data categories the present fields of `details` represent, sorted, without duplicates. */
export function detailCategories(details: PersonalDetails): string[] {
  return [...new Set(DETAIL_FIELDS.filter((f) => details[f] !== undefined).map((f) => DETAIL_CATEGORY[f]))].sort();
}

/** A subject's data key in clear: 32 bytes and the id that blobs name it by. */
export interface DataKey {
  readonly id: string;
  readonly key: Buffer;
}

/** What a blob is bound to: the event it belongs to and the subject pseudonym. */
export interface DetailsAad {
  readonly eventId: string;
  readonly subject: string;
}

export const DETAILS_VERSION = 0x01;
export const DATA_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Largest canonical plaintext accepted (before padding). */
export const MAX_DETAILS_BYTES = 64 * 1024;
const PAD_TO = 64;
const NONCE = 12;
const TAG = 16;
const DOMAIN = Buffer.from('sporbar/personal-details/v1\0', 'ascii');

const malformed = (why: string, cause?: unknown) =>
  new SporbarError('SPB_ERR_MALFORMED_BODY', `personal details cannot be opened: ${why}`, cause === undefined ? {} : { cause });

export function checkDataKey(dataKey: DataKey): void {
  if (!DATA_KEY_ID_PATTERN.test(dataKey.id)) throw new SporbarError('SPB_ERR_CONFIG', 'a data key id must be 1-64 of [A-Za-z0-9_-]');
  if (dataKey.key.length !== 32) throw new SporbarError('SPB_ERR_CONFIG', `a data key must be 32 bytes, got ${dataKey.key.length}`);
}

/**
 * Small buffers here come from Node's shared pool (allocUnsafe, then written whole): a Buffer of its
 * own (Buffer.alloc, Buffer.of) is an ArrayBuffer of its own, some 2 µs to make and collect.
 */
function header(keyId: string): Buffer {
  const head = Buffer.allocUnsafe(2 + keyId.length);
  head[0] = DETAILS_VERSION;
  head[1] = keyId.length;
  head.write(keyId, 2, 'ascii');
  return head;
}

/**
 * DOMAIN ‖ head ‖ len ‖ eventId (lower case) ‖ len ‖ subject, the lengths 4 bytes big-endian: built
 * in one allocation (this runs once per event on the ingest's hot path).
 */
function aadBytes(head: Buffer, aad: DetailsAad): Buffer {
  if (!aad.eventId || !aad.subject) throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'personal details need an eventId and a subject to be bound to');
  const eventId = aad.eventId.toLowerCase();
  const idBytes = Buffer.byteLength(eventId, 'utf8');
  const subjectBytes = Buffer.byteLength(aad.subject, 'utf8');
  const out = Buffer.allocUnsafe(DOMAIN.length + head.length + 4 + idBytes + 4 + subjectBytes);
  let at = DOMAIN.copy(out, 0);
  at += head.copy(out, at);
  at = out.writeUInt32BE(idBytes, at);
  at += out.write(eventId, at, 'utf8');
  at = out.writeUInt32BE(subjectBytes, at);
  out.write(aad.subject, at, 'utf8');
  return out;
}

/** The canonical plaintext: known string fields only, in DETAIL_FIELDS order. */
export function canonicalDetails(details: PersonalDetails): string {
  for (const field in details) {
    if (!Object.hasOwn(details, field)) continue;
    if (!KNOWN_FIELDS.has(field)) {
      throw new SporbarError('SPB_ERR_SCHEMA_INVALID', `personal details: unknown field '${field.slice(0, 40)}'`, { details: { field: field.slice(0, 40) } });
    }
    const value = (details as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string') {
      throw new SporbarError('SPB_ERR_SCHEMA_INVALID', `personal details: '${field}' must be a string`, { details: { field } });
    }
  }
  const out: Record<string, string> = {};
  for (const f of DETAIL_FIELDS) {
    const v = details[f];
    if (v !== undefined) out[f] = v;
  }
  return JSON.stringify(out);
}

export function encryptDetails(dataKey: DataKey, details: PersonalDetails, aad: DetailsAad): Buffer {
  checkDataKey(dataKey);
  const json = canonicalDetails(details);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  if (jsonBytes > MAX_DETAILS_BYTES) {
    throw new SporbarError('SPB_ERR_OVERSIZED', `personal details are ${jsonBytes} bytes, more than the ${MAX_DETAILS_BYTES} allowed`);
  }
  const padded = Buffer.allocUnsafe(Math.ceil(jsonBytes / PAD_TO) * PAD_TO);
  padded.fill(0x20, padded.write(json, 0, 'utf8'));
  const head = header(dataKey.id);
  const nonce = randomNonce();
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, nonce).setAAD(aadBytes(head, aad));
  return Buffer.concat([head, nonce, cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
}

/** The data key id a blob names, read from its header without any key. */
export function readDetailsKeyId(blob: Uint8Array): string {
  return parseBlob(blob).keyId;
}

interface ParsedBlob {
  readonly keyId: string;
  readonly head: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function parseBlob(bytes: Uint8Array): ParsedBlob {
  const blob = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (blob.length < 2) throw malformed('too short');
  if (blob[0] !== DETAILS_VERSION) throw malformed(`unknown version ${blob[0]}`);
  const idLength = blob[1] ?? 0;
  const headLength = 2 + idLength;
  if (blob.length < headLength + NONCE + PAD_TO + TAG) throw malformed('too short');
  if ((blob.length - headLength - NONCE - TAG) % PAD_TO !== 0) throw malformed('ciphertext length is not a multiple of the padding');
  const keyId = blob.toString('latin1', 2, headLength);
  if (!DATA_KEY_ID_PATTERN.test(keyId)) throw malformed('the key id is not of [A-Za-z0-9_-]');
  return {
    keyId,
    head: blob.subarray(0, headLength),
    nonce: blob.subarray(headLength, headLength + NONCE),
    ciphertext: blob.subarray(headLength + NONCE, blob.length - TAG),
    tag: blob.subarray(blob.length - TAG),
  };
}

export function decryptDetails(dataKey: DataKey, blob: Uint8Array, aad: DetailsAad): PersonalDetails {
  checkDataKey(dataKey);
  const p = parseBlob(blob);
  if (p.keyId !== dataKey.id) throw malformed(`the blob names key '${p.keyId}', not '${dataKey.id}'`);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey.key, p.nonce).setAAD(aadBytes(p.head, aad)).setAuthTag(p.tag);
    plain = decipher.update(p.ciphertext);
    decipher.final(); // checks the tag (GCM has no output left): nothing is parsed before it passes
  } catch (e) {
    if (e instanceof SporbarError) throw e;
    throw malformed('authentication failed (wrong key, wrong event or subject, or altered bytes)', e);
  }
  return parseDetails(plain);
}

function parseDetails(plain: Buffer): PersonalDetails {
  let value: unknown;
  try {
    value = JSON.parse(plain.toString('utf8'));
  } catch (e) {
    throw malformed('the plaintext is not JSON', e);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('the plaintext is not an object');
  const details: PersonalDetails = {};
  for (const [field, v] of Object.entries(value)) {
    if (!KNOWN_FIELDS.has(field) || typeof v !== 'string') throw malformed('the plaintext has an unknown or non-string field');
    details[field as DetailField] = v;
  }
  return details;
}
