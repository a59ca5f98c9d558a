import {
  assertHash, assertU64, bitAt, chainGenesis, chainHead, EMPTY_HASH, leafNodeHash, MapError, nodeHash, valueHash,
  type MapValue,
} from './hash.ts';

/**
 * Proofs in the subject map, their compact encoding, and the citizen's completeness check.
 *
 * A proof is the path from the root towards `index`: the sibling hashes top-down (depth 0 is the
 * root's child level), then what the path ends in:
 *   - member: the index's own leaf; carries its value (count, head) and the subject's salt;
 *   - empty:  an empty subtree, so no key has that prefix (non-membership);
 *   - other:  a leaf of another index sharing the prefix, as (index', valueHash'): non-membership
 *             that shows a random-looking index and a salted (opaque) value hash, never a count.
 *
 * Encoding (all big-endian):
 *   u8  kind            1 member, 2 empty, 3 other
 *   u16 depth d         0..256, the number of siblings
 *   ceil(d/8) bytes     bitmap, bit i (MSB first) set iff sibling i is not EMPTY_HASH
 *   32 bytes each       the non-empty siblings, top-down
 *   member: u64 count ‖ head[32] ‖ salt[32];  other: index'[32] ‖ valueHash'[32];  empty: nothing
 * About 3 + 3 + 32·log2(subjects) + 72 bytes: ≈ 0.75 KiB at a million subjects.
 */

export type MapProofTerminal =
  | { readonly kind: 'member'; readonly count: number; readonly head: Buffer; readonly salt: Buffer }
  | { readonly kind: 'empty' }
  | { readonly kind: 'other'; readonly index: Buffer; readonly valueHash: Buffer };

export interface MapProof {
  /** Sibling hashes from the root's children down to the terminal (EMPTY_HASH for empty ones). */
  readonly siblings: readonly Buffer[];
  readonly terminal: MapProofTerminal;
}

/** What a verified membership proof opens to: the committed value and the subject's salt. */
export interface ProvenValue extends MapValue {
  readonly salt: Buffer;
}

const KIND = { member: 1, empty: 2, other: 3 } as const;
const MAX_DEPTH = 256;

export function encodeMapProof(proof: MapProof): Buffer {
  const d = proof.siblings.length;
  if (d > MAX_DEPTH) throw new MapError(`a proof has at most ${MAX_DEPTH} siblings`);
  const bitmap = Buffer.alloc(Math.ceil(d / 8));
  const present: Buffer[] = [];
  proof.siblings.forEach((s, i) => {
    assertHash(s, 'sibling');
    if (!s.equals(EMPTY_HASH)) {
      bitmap[i >> 3]! |= 0x80 >> (i & 7);
      present.push(s);
    }
  });
  const head = Buffer.alloc(3);
  head[0] = KIND[proof.terminal.kind];
  head.writeUInt16BE(d, 1);
  const t = proof.terminal;
  let tail: Buffer;
  if (t.kind === 'member') {
    assertU64(t.count, 'count');
    tail = Buffer.alloc(8 + 64);
    tail.writeBigUInt64BE(BigInt(t.count), 0);
    tail.set(t.head, 8);
    tail.set(t.salt, 40);
  } else if (t.kind === 'other') tail = Buffer.concat([t.index, t.valueHash]);
  else tail = Buffer.alloc(0);
  return Buffer.concat([head, bitmap, ...present, tail]);
}

/** Parses the encoding strictly (exact length, no stray bitmap bits); throws MapError. */
export function decodeMapProof(bytes: Uint8Array): MapProof {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 3) throw new MapError('map proof: truncated');
  const kind = b[0];
  const d = b.readUInt16BE(1);
  if (d > MAX_DEPTH) throw new MapError(`map proof: depth ${d} > ${MAX_DEPTH}`);
  const bitmapLen = Math.ceil(d / 8);
  let off = 3;
  if (b.length < off + bitmapLen) throw new MapError('map proof: truncated bitmap');
  const bitmap = b.subarray(off, off + bitmapLen);
  off += bitmapLen;
  if (d % 8 !== 0 && (bitmap[bitmapLen - 1]! & (0xff >> (d % 8))) !== 0) throw new MapError('map proof: bitmap bits beyond the depth');
  const siblings: Buffer[] = [];
  for (let i = 0; i < d; i++) {
    if (bitmap[i >> 3]! & (0x80 >> (i & 7))) {
      if (b.length < off + 32) throw new MapError('map proof: truncated siblings');
      const s = Buffer.from(b.subarray(off, off + 32));
      if (s.equals(EMPTY_HASH)) throw new MapError('map proof: an empty sibling marked present');
      siblings.push(s);
      off += 32;
    } else siblings.push(EMPTY_HASH);
  }
  const rest = b.length - off;
  let terminal: MapProofTerminal;
  if (kind === KIND.member) {
    if (rest !== 72) throw new MapError('map proof: member value must be 72 bytes');
    const count = b.readBigUInt64BE(off);
    if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw new MapError('map proof: count too large');
    terminal = { kind: 'member', count: Number(count), head: Buffer.from(b.subarray(off + 8, off + 40)), salt: Buffer.from(b.subarray(off + 40, off + 72)) };
  } else if (kind === KIND.other) {
    if (rest !== 64) throw new MapError('map proof: other leaf must be 64 bytes');
    terminal = { kind: 'other', index: Buffer.from(b.subarray(off, off + 32)), valueHash: Buffer.from(b.subarray(off + 32, off + 64)) };
  } else if (kind === KIND.empty) {
    if (rest !== 0) throw new MapError('map proof: trailing bytes');
    terminal = { kind: 'empty' };
  } else throw new MapError(`map proof: unknown kind ${kind}`);
  return { siblings, terminal };
}

/**
 * Checks a proof for `index` against `root`. Returns the committed value (with the salt) when the
 * index is in the map, null when the proof shows it is absent; throws MapError when the proof does not
 * match the root or is malformed or non-canonical (which an honest map never produces).
 */
export function verifyMapProof(root: Uint8Array, index: Uint8Array, proof: MapProof): ProvenValue | null {
  assertHash(root, 'root');
  assertHash(index, 'index');
  const d = proof.siblings.length;
  if (d > MAX_DEPTH) throw new MapError(`a proof has at most ${MAX_DEPTH} siblings`);
  const t = proof.terminal;
  let h: Buffer;
  if (t.kind === 'member') {
    assertU64(t.count, 'count');
    assertHash(t.head, 'head');
    assertHash(t.salt, 'salt');
    if (t.count === 0) throw new MapError('map proof: a member with no leaves (an honest map has no such key)');
    h = leafNodeHash(index, valueHash(t.count, t.head));
  } else if (t.kind === 'other') {
    assertHash(t.index, 'other index');
    assertHash(t.valueHash, 'other valueHash');
    if (Buffer.compare(t.index, index) === 0) throw new MapError('map proof: the other leaf is the index itself');
    for (let i = 0; i < d; i++) {
      if (bitAt(t.index, i) !== bitAt(index, i)) throw new MapError(`map proof: the other leaf leaves the path at depth ${i}`);
    }
    h = leafNodeHash(t.index, t.valueHash);
  } else {
    h = EMPTY_HASH;
  }
  // Canonical shape: a leaf or an empty subtree never has an empty sibling (the parent would have
  // collapsed), and the empty map is the only empty root.
  if (d > 0 && proof.siblings[d - 1]!.equals(EMPTY_HASH)) throw new MapError('map proof: non-canonical (empty sibling next to the terminal)');
  for (let i = d - 1; i >= 0; i--) {
    const s = proof.siblings[i]!;
    assertHash(s, 'sibling');
    h = bitAt(index, i) ? nodeHash(s, h) : nodeHash(h, s);
  }
  if (!h.equals(Buffer.from(root))) throw new MapError('map proof: does not lead to the root');
  return t.kind === 'member' ? { count: t.count, head: t.head, salt: t.salt } : null;
}

/** One disclosure as a report lists it: its position in the log and its RFC 6962 leaf hash. */
export interface ListedLeaf {
  readonly logIndex: number;
  readonly leafHash: Uint8Array;
}

export type SubjectListFailure =
  /** The map proof is invalid for this root and index. */
  | 'bad-proof'
  /** The list is not in log order (ascending logIndex); `at` is the first entry out of order. */
  | 'reordered'
  /** The same logIndex twice; `at` is the second. */
  | 'duplicate'
  /** A listed logIndex is not below the checkpoint's tree size; `at` is that entry. */
  | 'beyond-size'
  /** The map holds more leaves for the subject than the list (`committed` > `listed`). */
  | 'missing'
  /** The list holds more leaves than the map has for the subject (`listed` > `committed`). */
  | 'extra'
  /** As many leaves as committed, but not the same (logIndex, leafHash) sequence. */
  | 'substituted';

export type SubjectListResult =
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly reason: SubjectListFailure; readonly detail: string; readonly committed?: number; readonly listed?: number; readonly at?: number };

/**
 * The citizen's check: the listed disclosures are exactly the subject's leaves in the map at `root`
 * (none missing, none extra, in log order, each at its position). Inclusion of each listed leaf in
 * the log is checked separately (tlog-proof); together they give "this is everything about me up to
 * the tree size". `treeSize`, when given, is the size the map root was committed for.
 */
export function checkSubjectList(
  root: Uint8Array,
  index: Uint8Array,
  proof: MapProof,
  listed: readonly ListedLeaf[],
  options: { treeSize?: number } = {},
): SubjectListResult {
  let value: ProvenValue | null;
  try {
    value = verifyMapProof(root, index, proof);
  } catch (err) {
    return { ok: false, reason: 'bad-proof', detail: (err as Error).message };
  }
  for (let i = 0; i < listed.length; i++) {
    const l = listed[i]!;
    assertU64(l.logIndex, 'logIndex');
    assertHash(l.leafHash, 'leafHash');
    if (options.treeSize !== undefined && l.logIndex >= options.treeSize) {
      return { ok: false, reason: 'beyond-size', at: i, detail: `entry ${i} is at log index ${l.logIndex}, beyond the tree size ${options.treeSize}` };
    }
    if (i > 0) {
      const prev = listed[i - 1]!.logIndex;
      if (l.logIndex === prev) return { ok: false, reason: 'duplicate', at: i, detail: `entry ${i} repeats log index ${l.logIndex}` };
      if (l.logIndex < prev) return { ok: false, reason: 'reordered', at: i, detail: `entry ${i} (log index ${l.logIndex}) comes after log index ${prev}` };
    }
  }
  const committed = value?.count ?? 0;
  if (listed.length < committed) {
    return { ok: false, reason: 'missing', committed, listed: listed.length, detail: `the log holds ${committed} leaves for this subject, the list ${listed.length}` };
  }
  if (listed.length > committed) {
    return { ok: false, reason: 'extra', committed, listed: listed.length, detail: `the list holds ${listed.length} leaves, the log ${committed} for this subject` };
  }
  if (value === null) return { ok: true, count: 0 };
  let head = chainGenesis(index, value.salt);
  for (const l of listed) head = chainHead(head, l.logIndex, l.leafHash);
  if (!head.equals(value.head)) {
    return { ok: false, reason: 'substituted', committed, listed: listed.length, detail: 'as many leaves as the log holds for this subject, but not the same ones (chain head differs)' };
  }
  return { ok: true, count: committed };
}


