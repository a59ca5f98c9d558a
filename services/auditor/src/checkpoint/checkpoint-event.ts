import { eventTypeMatcher } from '../map/log-leaves.ts';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointSigned, Codec } from '@sporbar/schemas';
import { checkpointBody, generateSigningKey, loadSigningKey, noteKeyId, signTreeHead, signTreeHeadAsync, signingKeySeed, type CheckpointSigner, type SigningKey } from './signed-tree-head.ts';

/**
 * The bridge between signed tree heads (text notes, `signed-tree-head.ts`) and the `CheckpointSigned`
 * events that store them in the log. The event keeps treeSize, rootHash, keyId and the raw Ed25519
 * signature; the origin is not in the schema, so it travels in the event's metadata (`origin`) and a
 * verifier may also be told it (`--origin`). The signature binds the origin either way: a wrong one
 * simply does not verify.
 */

/** The metadata key that carries the log's origin line on a CheckpointSigned event. */
export const ORIGIN_METADATA_KEY = 'origin';

/** A deterministic uuid (version 8) for the checkpoint of `origin` at `treeSize`: a restart re-signing the same size is deduplicated by the store. */
export function checkpointEventId(origin: string, treeSize: number): string {
  const h = createHash('sha256').update(`sporbar checkpoint\n${origin}\n${treeSize}\n`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Builds the CheckpointSigned event (and its checkpoint text) for a tree head, with a synchronous signer. */
export function signCheckpointEvent(head: { origin: string; treeSize: number; rootHash: Uint8Array }, signer: CheckpointSigner, occurredAtMicros = Date.now() * 1000): { event: CheckpointSigned; text: string } {
  return checkpointEventOf(head, noteKeyId(head.origin, signer.publicKeyRaw), signTreeHead(head, signer), occurredAtMicros);
}

/** The same with any signer, a remote one (HSM, KMS, an external command) included. */
export async function signCheckpointEventAsync(head: { origin: string; treeSize: number; rootHash: Uint8Array }, signer: CheckpointSigner, occurredAtMicros = Date.now() * 1000): Promise<{ event: CheckpointSigned; text: string }> {
  return checkpointEventOf(head, noteKeyId(head.origin, signer.publicKeyRaw), await signTreeHeadAsync(head, signer), occurredAtMicros);
}

function checkpointEventOf(head: { origin: string; treeSize: number; rootHash: Uint8Array }, keyId: string, text: string, occurredAtMicros: number): { event: CheckpointSigned; text: string } {
  const blob = Buffer.from(text.slice(text.lastIndexOf(' ') + 1, -1), 'base64');
  const event: CheckpointSigned = {
    eventId: checkpointEventId(head.origin, head.treeSize),
    occurredAt: occurredAtMicros,
    treeSize: head.treeSize,
    rootHash: Buffer.from(head.rootHash),
    keyId,
    algorithm: 'ED25519',
    signature: Buffer.from(blob.subarray(4)),
  };
  return { event, text };
}

/**
 * The checkpoint text a CheckpointSigned event stands for, given the origin: what `verifyTreeHead`
 * checks. Undefined when the event cannot be one (bad key id, bad size): the caller reports it.
 */
export function checkpointTextOf(event: CheckpointSigned, origin: string): string | undefined {
  if (!/^[0-9a-f]{8}$/.test(event.keyId) || event.signature.length !== 64) return undefined;
  let body: string;
  try {
    body = checkpointBody({ origin, treeSize: event.treeSize, rootHash: event.rootHash });
  } catch {
    return undefined;
  }
  const blob = Buffer.concat([Buffer.from(event.keyId, 'hex'), event.signature]).toString('base64');
  return `${body}\n\u2014 ${origin} ${blob}\n`;
}

/** Recognises the stored bytes of a CheckpointSigned event (any schema version) by the fingerprint in its header, without decoding. */
export function checkpointMatcher(codec: Codec): (data: Uint8Array) => boolean {
  return eventTypeMatcher(codec, 'CheckpointSigned');
}

/**
 * The checkpoint signing key of a data directory: `<dir>/checkpoint-key.json` ({ seed, publicKeyPem }),
 * created on first use, like the embedded system's dev keys. Production passes a key from its secret store.
 */
export function loadOrCreateCheckpointKey(dataDir: string): SigningKey {
  const file = join(dataDir, 'checkpoint-key.json');
  if (existsSync(file)) {
    const { seed } = JSON.parse(readFileSync(file, 'utf8')) as { seed: string };
    return loadSigningKey(seed);
  }
  const key = generateSigningKey();
  mkdirSync(dataDir, { recursive: true });
  const publicKeyPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  writeFileSync(file, JSON.stringify({ seed: signingKeySeed(key), keyId: key.keyId, publicKeyPem }, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(join(dataDir, 'checkpoint-key.pub.pem'), publicKeyPem);
  return key;
}
