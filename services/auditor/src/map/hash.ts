import { hash } from 'node:crypto';

/**
 * Hashes of the subject map (docs/subject-map.md), all SHA-256 with a one-byte domain tag that is
 * neither RFC 6962's 0x00 (leaf) nor 0x01 (node), so no map hash can be read as a log hash or back:
 *
 *   genesis(index, salt)           = H(0x20 ‖ index ‖ salt)                   the empty chain of a subject
 *   chainHead(prev, logIndex, lh)  = H(0x21 ‖ prev ‖ u64be(logIndex) ‖ lh)    one leaf appended to it
 *   valueHash(count, head)         = H(0x22 ‖ u64be(count) ‖ head)            what a map leaf commits to
 *   leafNode(index, valueHash)     = H(0x23 ‖ index ‖ valueHash)              a subtree holding one key
 *   node(left, right)              = H(0x24 ‖ left ‖ right)                   a subtree holding ≥ 2 keys
 *   EMPTY                          = H(0x25)                                  a subtree holding no key
 *
 * `index` is the subject's 32-byte map index (the keyed hash / VRF output of their identity), `salt`
 * a 32-byte per-subject secret known to the subject and the auditors only: it blinds the chain so that
 * a neighbour's (index, valueHash) shown in someone else's non-membership proof cannot be brute-forced
 * against the public leaf hashes into "that subject has exactly one disclosure, this one".
 *
 * Pure and synchronous; one scratch buffer per shape (JS runs this single-threaded).
 */

export const MAP_HASH_BYTES = 32;
export const TAG_GENESIS = 0x20;
export const TAG_CHAIN = 0x21;
export const TAG_VALUE = 0x22;
export const TAG_LEAF = 0x23;
export const TAG_NODE = 0x24;
export const TAG_EMPTY = 0x25;

const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

/** The hash of a subtree without keys (the same at every depth: the tree is compressed). */
export const EMPTY_HASH: Buffer = sha256(Buffer.of(TAG_EMPTY));

export class MapError extends Error {
  override name = 'MapError';
}

export function assertHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== MAP_HASH_BYTES) throw new MapError(`${what} must be ${MAP_HASH_BYTES} bytes`);
}

/** A log index / count as a u64: a non-negative safe integer (the log's sizes are JS numbers). */
export function assertU64(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new MapError(`${what} must be a non-negative safe integer, got ${n}`);
}

function putU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 2 ** 32), offset);
  buf.writeUInt32BE(n % 2 ** 32, offset + 4);
}

const genesisScratch = Buffer.alloc(1 + 64);
genesisScratch[0] = TAG_GENESIS;
/** The head of a subject's chain before any leaf: binds the chain to the index and blinds it by the salt. */
export function chainGenesis(index: Uint8Array, salt: Uint8Array): Buffer {
  assertHash(index, 'index');
  assertHash(salt, 'salt');
  genesisScratch.set(index, 1);
  genesisScratch.set(salt, 33);
  return sha256(genesisScratch);
}

const chainScratch = Buffer.alloc(1 + 32 + 8 + 32);
chainScratch[0] = TAG_CHAIN;
/** The chain head after appending the leaf at `logIndex` with RFC 6962 leaf hash `leafHash`. */
export function chainHead(prev: Uint8Array, logIndex: number, leafHash: Uint8Array): Buffer {
  assertHash(prev, 'prev');
  assertHash(leafHash, 'leafHash');
  assertU64(logIndex, 'logIndex');
  chainScratch.set(prev, 1);
  putU64(chainScratch, 33, logIndex);
  chainScratch.set(leafHash, 41);
  return sha256(chainScratch);
}

/** A subject's entry in the map: how many of the log's leaves are theirs, and the chain over them. */
export interface MapValue {
  readonly count: number;
  readonly head: Buffer;
}

/**
 * The same two steps on a subject's 96-byte state (index | head | node hash) at `offset` of a buffer
 * (the SubjectMap's arena), without allocating views: the map's hot path. Inputs are trusted (checked
 * by the caller).
 */
export function appendToHeadAt(state: Buffer, offset: number, logIndex: number, leafHash: Uint8Array): void {
  state.copy(chainScratch, 1, offset + 32, offset + 64);
  putU64(chainScratch, 33, logIndex);
  chainScratch.set(leafHash, 41);
  sha256(chainScratch).copy(state, offset + 32);
}

export function leafNodeHashAt(state: Buffer, offset: number, count: number): void {
  putU64(valueScratch, 1, count);
  state.copy(valueScratch, 9, offset + 32, offset + 64);
  state.copy(leafScratch, 1, offset, offset + 32);
  sha256(valueScratch).copy(leafScratch, 33);
  sha256(leafScratch).copy(state, offset + 64);
}

/** appendToHeadAt / leafNodeHashAt on a state buffer of its own (offset 0). */
export function appendToHeadIn(state: Buffer, logIndex: number, leafHash: Uint8Array): void {
  appendToHeadAt(state, 0, logIndex, leafHash);
}

export function leafNodeHashIn(state: Buffer, count: number): void {
  leafNodeHashAt(state, 0, count);
}

const valueScratch = Buffer.alloc(1 + 8 + 32);
valueScratch[0] = TAG_VALUE;
export function valueHash(count: number, head: Uint8Array): Buffer {
  assertU64(count, 'count');
  assertHash(head, 'head');
  putU64(valueScratch, 1, count);
  valueScratch.set(head, 9);
  return sha256(valueScratch);
}

const leafScratch = Buffer.alloc(1 + 64);
leafScratch[0] = TAG_LEAF;
export function leafNodeHash(index: Uint8Array, vHash: Uint8Array): Buffer {
  leafScratch.set(index, 1);
  leafScratch.set(vHash, 33);
  return sha256(leafScratch);
}

const nodeScratch = Buffer.alloc(1 + 64);
nodeScratch[0] = TAG_NODE;
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 33);
  return sha256(nodeScratch);
}

/** Bit `depth` of a 256-bit index, most significant first: 0 → left, 1 → right. */
export function bitAt(index: Uint8Array, depth: number): number {
  return ((index[depth >> 3] as number) >> (7 - (depth & 7))) & 1;
}

/** The chain head over a list of (logIndex, leafHash), from the subject's genesis. */
export function chainOver(index: Uint8Array, salt: Uint8Array, leaves: Iterable<{ logIndex: number; leafHash: Uint8Array }>): MapValue {
  let head = chainGenesis(index, salt);
  let count = 0;
  for (const l of leaves) {
    head = chainHead(head, l.logIndex, l.leafHash);
    count++;
  }
  return { count, head };
}
