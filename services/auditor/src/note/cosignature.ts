import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519PublicKey, formatVkey, isValidKeyName, keyIdOf, NoteError, rawEd25519PublicKey, SIG_TYPE_COSIGNATURE_V1, type NoteSignature, type VerifierKey } from './note.ts';

/**
 * C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), the Ed25519 type (cosignature/v1),
 * pure apart from the signature itself:
 *
 *   key ID  = SHA-256(<name> ‖ "\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4]
 *   message = "cosignature/v1\n" ‖ "time <POSIX seconds>\n" ‖ <the checkpoint's whole note text>
 *   line    = — <name> base64(key ID ‖ timestamp as u64 big-endian ‖ Ed25519 signature[64])
 *
 * The note text is the checkpoint's body with its final newline and any extension lines, without the
 * blank line and the signatures. The timestamp is never zero (tlog-witness forbids it) and at most
 * 2^63 - 1.
 */

export const COSIGNATURE_V1_HEADER = 'cosignature/v1';
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** The cosigner's vkey, signature type 0x04: what a log or a citizen configures to trust it. */
  readonly vkey: string;
  /** A `— <name> <base64>` line (no newline) over `checkpointText` at `timestamp` (seconds). */
  cosign(checkpointText: string, timestamp: bigint): string;
}

/** The signed message: the two header lines, then the checkpoint's note text. */
export function cosignatureMessage(checkpointText: string, timestamp: bigint): Buffer {
  checkTimestamp(timestamp);
  return Buffer.from(`${COSIGNATURE_V1_HEADER}\ntime ${timestamp.toString(10)}\n${checkpointText}`, 'utf8');
}

function checkTimestamp(timestamp: bigint): void {
  if (timestamp <= 0n || timestamp > MAX_TIMESTAMP) throw new RangeError(`a cosignature timestamp is within 1..2^63-1, got ${timestamp}`);
}

/** A cosigner from its name and Ed25519 private key (a KeyObject, or PKCS#8 PEM). */
export function createCosigner(name: string, privateKey: KeyObject | string): Cosigner {
  if (!isValidKeyName(name)) throw new NoteError('malformed', `the cosigner name must be non-empty without spaces or '+', got ${JSON.stringify(name)}`);
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new NoteError('malformed', 'the cosigner key must be an Ed25519 private key');
  const publicKey = rawEd25519PublicKey(createPublicKey(key));
  const keyId = keyIdOf(name, SIG_TYPE_COSIGNATURE_V1, publicKey);
  const keyIdBytes = Buffer.alloc(4);
  keyIdBytes.writeUInt32BE(keyId);
  return {
    name,
    keyId,
    publicKey,
    vkey: formatVkey(name, SIG_TYPE_COSIGNATURE_V1, publicKey),
    cosign(checkpointText, timestamp) {
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(timestamp);
      const signature = sign(null, cosignatureMessage(checkpointText, timestamp), key);
      return `\u2014 ${name} ${Buffer.concat([keyIdBytes, ts, signature]).toString('base64')}`;
    },
  };
}

export type CosignatureCheck = { readonly ok: true; readonly timestamp: bigint } | { readonly ok: false; readonly reason: string };

/**
 * Checks one signature line against a cosigner's vkey (type 0x04): the name and key ID must match
 * (else it is another key's: 'not this cosigner'), the signature be 4 + 8 + 64 bytes, the timestamp
 * within 1..2^63-1, and the Ed25519 signature verify over the message rebuilt from the note text.
 */
export function verifyCosignature(cosigner: VerifierKey, checkpointText: string, sig: NoteSignature): CosignatureCheck {
  if (cosigner.type !== SIG_TYPE_COSIGNATURE_V1) return { ok: false, reason: 'the key is not a cosignature/v1 (0x04) key' };
  if (sig.name !== cosigner.name || sig.keyId !== cosigner.keyId) return { ok: false, reason: 'not this cosigner' };
  if (sig.signature.length !== 8 + 64) return { ok: false, reason: 'a cosignature/v1 is an 8-byte timestamp and a 64-byte signature' };
  const timestamp = sig.signature.readBigUInt64BE(0);
  if (timestamp === 0n || timestamp > MAX_TIMESTAMP) return { ok: false, reason: 'the timestamp is zero or above 2^63-1' };
  const good = verify(null, cosignatureMessage(checkpointText, timestamp), ed25519PublicKey(cosigner.publicKey), sig.signature.subarray(8));
  return good ? { ok: true, timestamp } : { ok: false, reason: 'the signature does not verify' };
}
