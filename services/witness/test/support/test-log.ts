import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { consistencyProof, leafHash, rootFromLeafHashes } from '@sporbar/auditor/merkle';

/**
 * A transparency log for the tests, written from the C2SP texts with Node's crypto only (none of the
 * witness's own note code): its checkpoints are signed notes (Ed25519, key ID = SHA-256(name ‖ 0x0A ‖
 * 0x01 ‖ key)[:4]), its roots and consistency proofs come from the auditor's RFC 9162 code.
 */
export interface TestLog {
  readonly origin: string;
  /** The log's vkey: `<origin>+<hex key ID>+<base64(0x01 ‖ key)>`. */
  readonly vkey: string;
  readonly size: () => number;
  append(count: number, tag?: string): void;
  root(size?: number): Buffer;
  /** The signed checkpoint note of the first `size` leaves (default: all). */
  checkpoint(size?: number, extensions?: readonly string[]): string;
  proof(from: number, to?: number): Buffer[];
  /** Any note text, signed with the log's key (to make well-signed but wrong checkpoints). */
  sign(text: string): string;
  /** Another log with the same origin and key that shares the first `prefix` leaves, then diverges: a fork. */
  fork(prefix: number): TestLog;
}

/** The raw 32-byte Ed25519 public key of a public or private KeyObject. */
export function rawKey(key: KeyObject): Buffer {
  const der = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

/** SHA-256(name ‖ "\n" ‖ type ‖ key)[:4]: the spec's formula, written out here independently. */
export const specKeyId = (name: string, type: number, key: Buffer): Buffer =>
  createHash('sha256').update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from('\n'), Buffer.of(type), key])).digest().subarray(0, 4);

export function signNote(text: string, name: string, privateKey: KeyObject): string {
  const id = specKeyId(name, 0x01, rawKey(createPublicKey(privateKey)));
  const sig = sign(null, Buffer.from(text, 'utf8'), privateKey);
  return `${text}\n\u2014 ${name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
}

export function createTestLog(origin: string, key: KeyObject = generateKeyPairSync('ed25519').privateKey, leaves: Buffer[] = []): TestLog {
  const pub = rawKey(createPublicKey(key));
  const vkey = `${origin}+${specKeyId(origin, 0x01, pub).toString('hex')}+${Buffer.concat([Buffer.of(0x01), pub]).toString('base64')}`;
  const log: TestLog = {
    origin,
    vkey,
    size: () => leaves.length,
    append(count, tag = 'leaf') {
      for (let i = 0; i < count; i++) leaves.push(leafHash(Buffer.from(`${origin} ${tag} ${leaves.length}`)));
    },
    root: (size = leaves.length) => rootFromLeafHashes(leaves.slice(0, size)),
    checkpoint(size = leaves.length, extensions = []) {
      const text = [origin, String(size), log.root(size).toString('base64'), ...extensions].map((l) => `${l}\n`).join('');
      return signNote(text, origin, key);
    },
    proof: (from, to = leaves.length) => consistencyProof(leaves, from, to),
    sign: (text) => signNote(text, origin, key),
    fork(prefix) {
      const other = createTestLog(origin, key, leaves.slice(0, prefix));
      other.append(leaves.length - prefix + 1, 'fork');
      return other;
    },
  };
  return log;
}
