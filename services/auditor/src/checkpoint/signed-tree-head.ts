import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { SporbarError } from '@sporbar/common/errors';
import { HASH_BYTES } from '../merkle/rfc9162.ts';

/**
 * Signed tree heads ("checkpoints"), in the spirit of C2SP tlog-checkpoint + signed-note:
 *
 *   sporbar.v1/<logId>\n                 origin: which log this is
 *   <tree size, decimal>\n
 *   <root hash, standard base64>\n
 *   \n
 *   — <origin> <base64(keyId[4] ‖ Ed25519 signature[64])>\n
 *
 * The signature is Ed25519 over the body (the first three lines, each with its newline), as C2SP
 * signed-note and tlog-checkpoint say: the signature line names the key (the log's origin) and starts
 * with its 4-byte key hash, SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[0:4] (`noteKeyId`); the
 * verifier key string `<name>+<hex key hash>+<base64(0x01 ‖ key)>` (`verifierKeyString`) is what the Go
 * checksum database's `note.NewVerifier` reads, and a test opens our checkpoints with its `note.Open`.
 * One restriction: no extension lines (the body is exactly three lines, so one tree head has one
 * encoding).
 *
 * `VerifyingKey.keyId` (SHA-256(raw key)[0:4]) is only the key's fingerprint, for file names and
 * messages; what a checkpoint carries is the note key id, which also binds the origin.
 *
 * Signing is kept apart from storage (as Trillian Tessera keeps its note.Signer): `signTreeHead`
 * takes a required `CheckpointSigner`. `loadSigningKey` / `generateSigningKey` give an in-process
 * Ed25519 one; an HSM or KMS signer only needs to implement the same two members, and may answer
 * with a promise (then sign with `signTreeHeadAsync`; `@sporbar/log`'s command signer does).
 */

export const ORIGIN_PREFIX = 'sporbar.v1/';
const ORIGIN_RE = /^sporbar\.v1\/[\x21-\x7e]{1,200}$/;
const SIZE_RE = /^(0|[1-9][0-9]{0,15})$/;
const SIG_LINE_RE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;
const KEY_ID_BYTES = 4;
const SIGNATURE_BYTES = 64;
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface TreeHead {
  /** `sporbar.v1/<logId>`: see `logOrigin`. */
  readonly origin: string;
  readonly treeSize: number;
  /** MTH of the first `treeSize` leaves, 32 bytes. */
  readonly rootHash: Uint8Array;
}

/** What `signTreeHead` needs from a key: its public half and a way to sign bytes. */
export interface CheckpointSigner {
  /** 8 hex characters: the key's fingerprint, SHA-256(raw Ed25519 public key)[0:4] (messages, file names). */
  readonly keyId: string;
  /** The 32-byte raw Ed25519 public key: the signature line's key hash is made from it and the origin. */
  readonly publicKeyRaw: Buffer;
  /** An Ed25519 signature (64 bytes) over `message`; a remote signer (HSM, KMS) answers with a promise. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export interface VerifyingKey {
  readonly publicKey: KeyObject;
  /** The 32-byte raw Ed25519 public key. */
  readonly publicKeyRaw: Buffer;
  readonly keyId: string;
}

export interface SigningKey extends VerifyingKey, CheckpointSigner {
  readonly privateKey: KeyObject;
  /** In process: synchronous. */
  sign(message: Uint8Array): Uint8Array;
}

export type CheckpointVerification =
  | { readonly ok: true; readonly treeHead: TreeHead & { readonly keyId: string } }
  | { readonly ok: false; readonly reason: string };

/** The origin line for a log id: `sporbar.v1/<logId>`. */
export function logOrigin(logId: string): string {
  const origin = ORIGIN_PREFIX + logId;
  if (!ORIGIN_RE.test(origin)) throw new SporbarError('SPB_ERR_CONFIG', `log id must be 1-200 printable ASCII characters without spaces, got '${logId}'`);
  return origin;
}

/** The key's fingerprint: hex of the first 4 bytes of SHA-256(raw 32-byte public key). Not what a checkpoint carries: see `noteKeyId`. */
export const keyIdOf = (publicKeyRaw: Uint8Array): string => createHash('sha256').update(publicKeyRaw).digest().subarray(0, KEY_ID_BYTES).toString('hex');

/** The C2SP signed-note key hash of an Ed25519 key named `name`: hex of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw key)[0:4]. */
export function noteKeyId(name: string, publicKeyRaw: Uint8Array): string {
  return createHash('sha256').update(name, 'utf8').update(Buffer.of(0x0a, 0x01)).update(publicKeyRaw).digest().subarray(0, KEY_ID_BYTES).toString('hex');
}

/** The C2SP verifier key string: `<name>+<hex key hash>+<base64(0x01 ‖ raw key)>` (Go's note.NewVerifier reads it). */
export function verifierKeyString(name: string, publicKeyRaw: Uint8Array): string {
  return `${name}+${noteKeyId(name, publicKeyRaw)}+${Buffer.concat([Buffer.of(0x01), publicKeyRaw]).toString('base64')}`;
}

const configError = (message: string, cause?: unknown): SporbarError => new SporbarError('SPB_ERR_CONFIG', message, { cause });

function rawPublicKey(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

function verifyingKeyOf(publicKey: KeyObject): VerifyingKey {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw configError(`checkpoint keys must be Ed25519, got a ${publicKey.type} ${publicKey.asymmetricKeyType ?? 'secret'} key`);
  }
  const publicKeyRaw = rawPublicKey(publicKey);
  return { publicKey, publicKeyRaw, keyId: keyIdOf(publicKeyRaw) };
}

function signingKeyOf(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw configError(`checkpoint signing keys must be Ed25519 private keys, got a ${privateKey.type} ${privateKey.asymmetricKeyType ?? 'secret'} key`);
  }
  const vk = verifyingKeyOf(createPublicKey(privateKey));
  return { ...vk, privateKey, sign: (message) => sign(null, message, privateKey) };
}

/** Strict base64url of exactly 32 bytes (padding tolerated), else SPB_ERR_CONFIG. */
function base64url32(material: string, what: string): Buffer {
  const text = material.trim().replace(/=+$/, '');
  const bytes = Buffer.from(text, 'base64url');
  if (!/^[A-Za-z0-9_-]+$/.test(text) || bytes.length !== 32 || bytes.toString('base64url') !== text) {
    throw configError(`${what} must be a PEM key or 32 bytes in base64url, got ${bytes.length} byte(s)`);
  }
  return bytes;
}

/** A fresh Ed25519 key. `signingKeySeed` turns it into the base64url seed to keep in configuration. */
export function generateSigningKey(): SigningKey {
  return signingKeyOf(generateKeyPairSync('ed25519').privateKey);
}

/** Loads an Ed25519 private key from PKCS#8 PEM, a raw 32-byte seed in base64url, or a KeyObject. Bad material: SPB_ERR_CONFIG. */
export function loadSigningKey(material: string | KeyObject): SigningKey {
  if (typeof material !== 'string') return signingKeyOf(material);
  let key: KeyObject;
  if (material.trimStart().startsWith('-----BEGIN')) {
    try {
      key = createPrivateKey(material);
    } catch (cause) {
      throw configError('the checkpoint signing key PEM cannot be read', cause);
    }
  } else {
    const seed = base64url32(material, 'the checkpoint signing key');
    key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }
  return signingKeyOf(key);
}

/** Loads an Ed25519 public key from SPKI PEM, raw 32 bytes in base64url, or a KeyObject. Bad material: SPB_ERR_CONFIG. */
export function loadVerifyingKey(material: string | KeyObject | VerifyingKey): VerifyingKey {
  if (typeof material !== 'string') return 'keyId' in material ? material : verifyingKeyOf(material);
  if (material.trimStart().startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPublicKey(material);
    } catch (cause) {
      throw configError('the checkpoint public key PEM cannot be read', cause);
    }
    return verifyingKeyOf(key);
  }
  const raw = base64url32(material, 'the checkpoint public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw configError('the checkpoint public key is not a valid Ed25519 point', cause);
  }
  return verifyingKeyOf(key);
}

/** The raw 32-byte seed of a signing key, base64url (what `loadSigningKey` reads back). */
export function signingKeySeed(key: SigningKey): string {
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(der.length - 32)).toString('base64url');
}

/** The raw 32-byte public key, base64url (what `loadVerifyingKey` reads back). */
export const publicKeyBase64url = (key: VerifyingKey): string => key.publicKeyRaw.toString('base64url');

/** The canonical checkpoint body: origin, size and base64 root, each ending in a newline. */
export function checkpointBody(head: TreeHead): string {
  if (typeof head.origin !== 'string' || !ORIGIN_RE.test(head.origin)) throw new RangeError(`origin must look like '${ORIGIN_PREFIX}<logId>', got '${head.origin}'`);
  if (!Number.isSafeInteger(head.treeSize) || head.treeSize < 0) throw new RangeError(`tree size must be a non-negative safe integer, got ${head.treeSize}`);
  if (!(head.rootHash instanceof Uint8Array) || head.rootHash.length !== HASH_BYTES) throw new RangeError(`root hash must be ${HASH_BYTES} bytes`);
  return `${head.origin}\n${head.treeSize}\n${Buffer.from(head.rootHash).toString('base64')}\n`;
}

/** Signs a tree head with a synchronous signer (an in-process key); returns the checkpoint text (body, blank line, one signature line). */
export function signTreeHead(head: TreeHead, signer: CheckpointSigner): string {
  const body = checkpointBody(head);
  checkSigner(signer);
  const signature = signer.sign(Buffer.from(body, 'utf8'));
  if (signature instanceof Promise) throw new TypeError('this checkpoint signer answers with a promise: sign with signTreeHeadAsync');
  return checkpointText(head.origin, body, noteKeyId(head.origin, signer.publicKeyRaw), signature);
}

/** Signs a tree head with any signer, a remote one (HSM, KMS, an external command) included. */
export async function signTreeHeadAsync(head: TreeHead, signer: CheckpointSigner): Promise<string> {
  const body = checkpointBody(head);
  checkSigner(signer);
  const signature = await signer.sign(Buffer.from(body, 'utf8'));
  return checkpointText(head.origin, body, noteKeyId(head.origin, signer.publicKeyRaw), signature);
}

function checkSigner(signer: CheckpointSigner): void {
  if (!/^[0-9a-f]{8}$/.test(signer.keyId)) throw configError(`signer key id must be 8 hex characters, got '${signer.keyId}'`);
  if (!(signer.publicKeyRaw instanceof Uint8Array) || signer.publicKeyRaw.length !== 32) throw configError('a checkpoint signer names its 32-byte raw Ed25519 public key');
}

function checkpointText(origin: string, body: string, keyId: string, signature: Uint8Array): string {
  if (signature.length !== SIGNATURE_BYTES) throw configError(`signer returned ${signature.length} bytes, an Ed25519 signature has ${SIGNATURE_BYTES}`);
  const blob = Buffer.concat([Buffer.from(keyId, 'hex'), signature]).toString('base64');
  return `${body}\n\u2014 ${origin} ${blob}\n`;
}

/** Parses a checkpoint's body without checking any signature. */
export function parseCheckpointBody(body: string): { ok: true; treeHead: TreeHead } | { ok: false; reason: string } {
  const lines = body.split('\n');
  if (lines.length !== 4 || lines[3] !== '') return { ok: false, reason: 'the body must be exactly three newline-terminated lines' };
  const [origin, size, root] = lines as [string, string, string];
  if (!ORIGIN_RE.test(origin)) return { ok: false, reason: `origin '${origin}' is not '${ORIGIN_PREFIX}<logId>'` };
  if (!SIZE_RE.test(size) || !Number.isSafeInteger(Number(size))) return { ok: false, reason: `tree size '${size}' is not a canonical decimal` };
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== HASH_BYTES || rootHash.toString('base64') !== root) return { ok: false, reason: 'root hash is not 32 bytes in canonical base64' };
  return { ok: true, treeHead: { origin, treeSize: Number(size), rootHash } };
}

/**
 * Verifies a checkpoint against one public key. Succeeds only if the body parses, the origin matches
 * `options.origin` when given, and a signature line named after the origin with this key's id holds
 * a valid Ed25519 signature over the body. Lines from other keys are ignored (C2SP: a note may carry
 * signatures of witnesses). Never throws for a bad checkpoint; bad key material throws SPB_ERR_CONFIG.
 */
export function verifyTreeHead(checkpoint: string, publicKey: string | KeyObject | VerifyingKey, options: { origin?: string } = {}): CheckpointVerification {
  const key = loadVerifyingKey(publicKey);
  const fail = (reason: string): CheckpointVerification => ({ ok: false, reason });
  if (typeof checkpoint !== 'string' || !checkpoint.endsWith('\n')) return fail('a checkpoint ends with a newline');
  const split = checkpoint.indexOf('\n\n');
  if (split < 0) return fail('no blank line between body and signatures');
  const body = checkpoint.slice(0, split + 1);
  const parsed = parseCheckpointBody(body);
  if (!parsed.ok) return parsed;
  const { origin } = parsed.treeHead;
  if (options.origin !== undefined && origin !== options.origin) return fail(`origin '${origin}' is not the expected '${options.origin}'`);
  // Every line must be well formed (a malformed note is rejected as a whole), then ours must verify.
  const signatures: { name: string; keyId: string; signature: Buffer }[] = [];
  for (const line of checkpoint.slice(split + 2, -1).split('\n')) {
    const m = SIG_LINE_RE.exec(line);
    const blob = m ? Buffer.from(m[2]!, 'base64') : undefined;
    // Any key's signature is a key ID and at least one byte (C2SP signed-note): a witness's cosignature
    // (cosignature/v1: 8-byte time ‖ 64-byte signature) is such a line, ignored here; ours is 4 + 64 bytes.
    if (!m || !blob || blob.length <= KEY_ID_BYTES || blob.toString('base64') !== m[2]) return fail('malformed signature line');
    signatures.push({ name: m[1]!, keyId: blob.subarray(0, KEY_ID_BYTES).toString('hex'), signature: blob.subarray(KEY_ID_BYTES) });
  }
  // A line of our own key that is not an Ed25519 signature makes the note malformed, wherever it stands.
  const ours = noteKeyId(origin, key.publicKeyRaw);
  if (signatures.some((x) => x.name === origin && x.keyId === ours && x.signature.length !== SIGNATURE_BYTES)) return fail('malformed signature line');
  const bodyBytes = Buffer.from(body, 'utf8');
  let seenOurKey = false;
  for (const { name, keyId, signature } of signatures) {
    if (name !== origin || keyId !== ours) continue;
    seenOurKey = true;
    if (verify(null, bodyBytes, key.publicKey, signature)) return { ok: true, treeHead: { ...parsed.treeHead, keyId: ours } };
  }
  return fail(seenOurKey ? 'the signature does not verify' : `no signature by key ${ours} (key ${key.keyId}) for ${origin}`);
}
