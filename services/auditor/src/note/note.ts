import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP signed-note (https://c2sp.org/signed-note), pure: parsing a note, verifier keys (vkeys), key
 * IDs, and opening a note with the keys one trusts.
 *
 *   <text ending in \n>\n
 *   — <key name> base64(32-bit key ID ‖ signature)\n      (one or more)
 *
 *   key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]   (big-endian uint32)
 *   vkey   = <key name>+hex(key ID)+base64(signature type ‖ public key)
 *
 * Strictness (the spec's MUSTs): valid UTF-8, no
 * control character but \n, text separated from the signatures by the last empty line, key names
 * non-empty without Unicode spaces or '+', signatures of at least 4 + 1 bytes, at most
 * MAX_SIGNATURES lines (the spec: accept at least 16; golang.org/x/mod's note allows 100).
 */

/** Signature type bytes assigned by signed-note. */
export const SIG_TYPE_ED25519 = 0x01;
/** Timestamped Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

export const MAX_SIGNATURES = 100;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const EM_DASH = '\u2014';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type NoteErrorKind =
  /** Not a signed note by the spec's syntax. */
  | 'malformed'
  /** No signature from a trusted key. */
  | 'unverified'
  /** A signature whose key name and ID match a trusted key does not verify. */
  | 'invalid-signature';

export class NoteError extends Error {
  constructor(
    readonly kind: NoteErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

export interface NoteSignature {
  readonly name: string;
  /** The 32-bit key ID, as an unsigned integer. */
  readonly keyId: number;
  /** The signature bytes after the key ID. */
  readonly signature: Buffer;
  /** The whole line, without its newline: `— <name> <base64>`. */
  readonly line: string;
}

export interface Note {
  /** The note text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Whether `text` holds a C0 control character (below U+0020), newline excepted when `newline` is true. */
export function hasControlCharacter(text: string, newline = false): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(newline && c === 0x0a)) return true;
  }
  return false;
}

/** Key names: non-empty, no Unicode space, no '+' (and no control character). */
// JavaScript's \s is Unicode's White_Space but for U+0085 (NEL), which Go's unicode.IsSpace counts too.
export const isValidKeyName = (name: string): boolean => name.length > 0 && !/[\s\u0085+]/u.test(name) && !hasControlCharacter(name);

/**
 * Standard base64 (RFC 4648 §4): its alphabet, padded to a multiple of 4. Unused trailing bits of the
 * last character are ignored, as Go's base64.StdEncoding (and so note.Open and litewitness) ignores them:
 * a signature altered there is a signature that fails (403), not a malformed note (400).
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64');
}

/** Standard base64 in its canonical form only (decoding and re-encoding gives the input back): hashes, keys. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const bytes = decodeBase64(text);
  return bytes && bytes.toString('base64') === text ? bytes : undefined;
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a big-endian uint32. */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name, 'utf8').update(Buffer.of(0x0a, type)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

export const keyIdHex = (keyId: number): string => keyId.toString(16).padStart(8, '0');

export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** The public key material after the type byte. */
  readonly publicKey: Buffer;
}

/** `<name>+<hex key ID>+<base64(type ‖ key)>`. */
export function formatVkey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError('malformed', `invalid key name ${JSON.stringify(name)}`);
  return `${name}+${keyIdHex(keyIdOf(name, type, publicKey))}+${Buffer.concat([Buffer.of(type), publicKey]).toString('base64')}`;
}

/**
 * Parses a vkey and checks it: the name is valid, the hex is 8 lowercase digits, the key ID is the
 * one the name, type and key give, and an Ed25519 key (types 0x01 and 0x04) is 32 bytes.
 */
export function parseVkey(vkey: string): VerifierKey {
  const parts = vkey.split('+');
  // The name has no '+', the hex has none, base64 may: name + hex + the rest.
  if (parts.length < 3) throw new NoteError('malformed', 'a vkey is <name>+<hex key ID>+<base64 key>');
  const [name, hex] = parts as [string, string];
  const material = decodeBase64Strict(parts.slice(2).join('+'));
  if (!isValidKeyName(name)) throw new NoteError('malformed', 'the vkey name is empty or holds a space or control character');
  if (!/^[0-9a-f]{8}$/.test(hex)) throw new NoteError('malformed', 'the vkey key ID must be 8 lowercase hex digits');
  if (!material || material.length < 2) throw new NoteError('malformed', 'the vkey key is not canonical base64 of a type byte and a key');
  const type = material[0]!;
  const publicKey = material.subarray(1);
  if ((type === SIG_TYPE_ED25519 || type === SIG_TYPE_COSIGNATURE_V1) && publicKey.length !== 32) {
    throw new NoteError('malformed', `an Ed25519 vkey holds 32 key bytes, this one ${publicKey.length}`);
  }
  const keyId = keyIdOf(name, type, publicKey);
  if (keyIdHex(keyId) !== hex) throw new NoteError('malformed', `the vkey key ID ${hex} is not SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4] = ${keyIdHex(keyId)}`);
  return { name, keyId, type, publicKey: Buffer.from(publicKey) };
}

/** A raw 32-byte Ed25519 public key as a Node KeyObject. */
export const ed25519PublicKey = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });

/** The raw 32 bytes of an Ed25519 public KeyObject. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new NoteError('malformed', `not an Ed25519 key (${key.asymmetricKeyType ?? key.type})`);
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

/**
 * Splits a signed note into its text and signature lines, checking the syntax only (no signature is
 * verified). Throws NoteError('malformed').
 */
export function parseNote(input: string | Uint8Array): Note {
  let msg: string;
  if (typeof input === 'string') msg = input;
  else {
    try {
      msg = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      throw new NoteError('malformed', 'a signed note must be valid UTF-8');
    }
  }
  if (LONE_SURROGATE.test(msg)) throw new NoteError('malformed', 'a signed note must be valid UTF-8');
  if (hasControlCharacter(msg, true)) throw new NoteError('malformed', 'a signed note holds no control character but newline');
  if (!msg.endsWith('\n')) throw new NoteError('malformed', 'a signed note ends with a newline');
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed', 'no empty line separates the text from the signatures');
  const text = msg.slice(0, split + 1);
  const lines = msg.slice(split + 2, -1).split('\n');
  if (lines.length === 1 && lines[0] === '') throw new NoteError('malformed', 'a signed note has at least one signature');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed', `more than ${MAX_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** One `— <name> <base64(key ID ‖ signature)>` line (without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(`${EM_DASH} `)) throw new NoteError('malformed', 'a signature line starts with an em dash and a space');
  const rest = line.slice(2);
  const space = rest.indexOf(' ');
  if (space < 0) throw new NoteError('malformed', 'a signature line is — <name> <base64>');
  const name = rest.slice(0, space);
  const bytes = decodeBase64(rest.slice(space + 1));
  if (!isValidKeyName(name)) throw new NoteError('malformed', 'a signature line names an invalid key');
  if (!bytes || bytes.length < 5) throw new NoteError('malformed', 'a signature is base64 of a 4-byte key ID and a signature');
  return { name, keyId: bytes.readUInt32BE(0), signature: Buffer.from(bytes.subarray(4)), line };
}

/** A trusted key that can check a signature over a note's text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key ID) is a valid signature of `text`. */
  verify(text: string, signature: Buffer): boolean;
}

/** A verifier for an Ed25519 note key (type 0x01): RFC 8032 over the note text. */
export function ed25519NoteVerifier(vkey: string | VerifierKey): NoteVerifier {
  const k = typeof vkey === 'string' ? parseVkey(vkey) : vkey;
  if (k.type !== SIG_TYPE_ED25519) throw new NoteError('malformed', `vkey ${k.name} is of signature type 0x${k.type.toString(16).padStart(2, '0')}, not Ed25519 (0x01)`);
  const key = ed25519PublicKey(k.publicKey);
  return {
    name: k.name,
    keyId: k.keyId,
    verify: (text, signature) => signature.length === 64 && verify(null, Buffer.from(text, 'utf8'), key, signature),
  };
}

export interface OpenedNote {
  readonly text: string;
  /** Signatures from trusted keys, each verified (a repeated line once). */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys not trusted here: ignored, kept as they came. */
  readonly unverified: readonly NoteSignature[];
}

const verifierKey = (name: string, keyId: number): string => `${name}+${keyIdHex(keyId)}`;

/**
 * Opens a note with the trusted verifiers: a signature whose name and key ID (both) match one is
 * verified, others are ignored. Throws NoteError: 'malformed' (syntax), 'invalid-signature' (a
 * matching signature fails: the spec's "clients SHOULD reject the whole note", which tlog-witness
 * makes a MUST), 'unverified' (no trusted signature).
 */
export function openNote(input: string | Uint8Array | Note, verifiers: readonly NoteVerifier[]): OpenedNote {
  const note = typeof input === 'object' && 'signatures' in input ? input : parseNote(input);
  const byKey = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = verifierKey(v.name, v.keyId);
    if (byKey.has(k)) throw new NoteError('malformed', `two trusted keys share name and key ID ${k}`);
    byKey.set(k, v);
  }
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of note.signatures) {
    const v = byKey.get(verifierKey(sig.name, sig.keyId));
    if (!v) {
      unverified.push(sig);
      continue;
    }
    if (!v.verify(note.text, sig.signature)) throw new NoteError('invalid-signature', `invalid signature for key ${verifierKey(sig.name, sig.keyId)}`);
    if (seen.has(sig.line)) continue;
    seen.add(sig.line);
    verified.push(sig);
  }
  if (verified.length === 0) throw new NoteError('unverified', 'the note has no signature from a trusted key');
  return { text: note.text, verified, unverified };
}
