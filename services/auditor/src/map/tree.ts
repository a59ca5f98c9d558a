import { createHmac, hash } from 'node:crypto';
import {
  appendToHeadAt, assertHash, assertU64, bitAt, chainGenesis, EMPTY_HASH, leafNodeHash, leafNodeHashAt, MAP_HASH_BYTES, MapError, nodeHash, TAG_NODE, valueHash,
  type MapValue,
} from './hash.ts';
import type { MapProof } from './proof.ts';

/**
 * The subject map: a compressed sparse Merkle tree (a binary Patricia trie over 256-bit indexes, as in
 * Diem's / Aptos' Jellyfish tree and akd's tree) from a subject's map index to (count, chain head).
 *
 * Canonical shape, so one set of (index, value) has exactly one root whatever the order of insertion:
 *   - a subtree with no key is EMPTY_HASH;
 *   - a subtree with exactly one key is that key's leaf node, at the shallowest depth where it is alone;
 *   - a subtree with two or more keys is an inner node over its two halves (bit `depth` of the index).
 * A path is therefore ~log2(subjects) long (≈ 20 for a million random indexes), not 256.
 *
 * Updates are incremental: applying a batch walks each entry's path once (no hashing) and marks the
 * leaf and its ancestors dirty; `root()` then rehashes each dirty node once, so a batch of B leaves
 * over T touched subjects costs B chain hashes plus 2 hashes per touched subject plus one per inner
 * node on the union of their paths, however the batch is split between root() calls.
 *
 * Memory: an arena, no JS object per subject. Leaves and inner nodes live in typed arrays that grow
 * by doubling, and refer to each other by int32 numbers:
 *   leaf   104 B + 1: index | head | node hash (96 B in one Buffer) + count (f64) + dirty flag
 *   inner   40 B + 1: left, right (int32 refs) + node hash (32 B) + dirty flag
 * A random trie has ≈ n / ln 2 ≈ 1.44 n inner nodes for n leaves (n − 1 branching ones, the rest on
 * one-sided stretches): ≈ 164 B per subject used, up to twice that allocated right after a doubling.
 * A ref is 0 for EMPTY, k > 0 for inner node k − 1, k < 0 for leaf −k − 1 (so at most 2^31 − 1 of
 * each; the leaf buffer's 96 B stride caps it lower, at Node's largest Buffer: ≈ 44 M subjects on
 * Node 20).
 */

/** One of the log's leaves that belongs to a subject. */
export interface MapEntry {
  /** The subject's 32-byte map index. */
  readonly index: Uint8Array;
  /** The leaf's position in the log. */
  readonly logIndex: number;
  /** The leaf's RFC 6962 leaf hash, SHA-256(0x00 ‖ stored event bytes): unchanged by key shredding. */
  readonly leafHash: Uint8Array;
}

/** The subject's 32-byte salt (see hash.ts): deterministic, asked again when a proof is made. */
export type SaltOf = (index: Uint8Array) => Uint8Array;

/** saltOf for an operator secret: HMAC-SHA-256(secret, "sporbar/subject-map/v1 salt" ‖ index). */
export function saltFromSecret(secret: Uint8Array): SaltOf {
  const key = Buffer.from(secret);
  return (index) => createHmac('sha256', key).update('sporbar/subject-map/v1 salt').update(index).digest();
}

const LEAF_STRIDE = 96;
const L_HEAD = 32;
const L_HASH = 64;
const INITIAL_CAPACITY = 1024;

export interface SubjectMapOptions {
  readonly saltOf: SaltOf;
}

const nodeScratch = Buffer.alloc(1 + 64);
nodeScratch[0] = TAG_NODE;
const hashNode = (scratch: Buffer): Buffer => hash('sha256', scratch, 'buffer');

export class SubjectMap {
  // Leaves: leafBytes[96·i ..] = index | head | node hash; leafCounts[i]; leafDirty[i].
  private leafBytes: Buffer = Buffer.alloc(INITIAL_CAPACITY * LEAF_STRIDE);
  private leafCounts = new Float64Array(INITIAL_CAPACITY);
  private leafDirty = new Uint8Array(INITIAL_CAPACITY);
  private leaves = 0;
  // Inner nodes: kids[2·n] left, kids[2·n + 1] right (refs); innerHashes[32·n ..]; innerDirty[n].
  private kids = new Int32Array(2 * INITIAL_CAPACITY);
  private innerHashes: Buffer = Buffer.alloc(INITIAL_CAPACITY * MAP_HASH_BYTES);
  private innerDirty = new Uint8Array(INITIAL_CAPACITY);
  private inners = 0;
  private rootRef = 0;
  private covered = 0;
  private readonly saltOf: SaltOf;

  constructor(options: SubjectMapOptions) {
    this.saltOf = options.saltOf;
  }

  /** The log size the map covers: it holds every subject leaf with logIndex < size. */
  get size(): number {
    return this.covered;
  }

  /** How many subjects (keys) the map holds. */
  get subjectCount(): number {
    return this.leaves;
  }

  /**
   * Bytes the arena uses for the current contents (`used`) and has allocated (`allocated`, ≤ about
   * twice `used` as the arrays grow by doubling), plus the node counts. For sizing and the benches.
   */
  memoryUsage(): { used: number; allocated: number; leaves: number; innerNodes: number } {
    const leafBytes = LEAF_STRIDE + 8 + 1;
    const innerBytes = 8 + MAP_HASH_BYTES + 1;
    return {
      used: this.leaves * leafBytes + this.inners * innerBytes,
      allocated: this.leafCounts.length * leafBytes + this.innerDirty.length * innerBytes,
      leaves: this.leaves,
      innerNodes: this.inners,
    };
  }

  /**
   * Applies the subject leaves of the log range [size, upTo): the order inside the batch does not
   * matter (entries are taken in log order), each logIndex must be in the range and appear once.
   * Leaves of the range that belong to no subject are simply not in the batch. Without `upTo` the map
   * then covers up to the largest logIndex + 1. A malformed batch throws before anything changes (a
   * saltOf that throws or returns a wrong-sized salt can leave it half-applied: rebuild then).
   */
  apply(batch: readonly MapEntry[], upTo?: number): void {
    let inOrder = true;
    for (let i = 1; i < batch.length && inOrder; i++) if (batch[i]!.logIndex < batch[i - 1]!.logIndex) inOrder = false;
    const sorted = inOrder ? batch : [...batch].sort((a, b) => a.logIndex - b.logIndex);
    const end = upTo ?? (sorted.length ? sorted[sorted.length - 1]!.logIndex + 1 : this.covered);
    assertU64(end, 'upTo');
    if (end < this.covered) throw new MapError(`the map already covers ${this.covered} leaves, cannot go back to ${end}`);
    let prev = -1;
    for (const e of sorted) {
      assertU64(e.logIndex, 'logIndex');
      assertHash(e.index, 'index');
      assertHash(e.leafHash, 'leafHash');
      if (e.logIndex < this.covered || e.logIndex >= end) throw new MapError(`logIndex ${e.logIndex} outside [${this.covered}, ${end})`);
      if (e.logIndex === prev) throw new MapError(`logIndex ${e.logIndex} twice in the batch`);
      prev = e.logIndex;
    }
    for (const e of sorted) {
      const leaf = this.findOrInsert(e.index);
      appendToHeadAt(this.leafBytes, leaf * LEAF_STRIDE, e.logIndex, e.leafHash);
      this.leafCounts[leaf]!++;
    }
    this.covered = end;
  }

  /** The root over the current contents (rehashing only what changed since the last call). */
  root(): Buffer {
    this.rehash(this.rootRef);
    return this.hashCopy(this.rootRef);
  }

  /** The value for an index, or null when it has no leaf. */
  get(index: Uint8Array): MapValue | null {
    assertHash(index, 'index');
    const leaf = this.find(index).leaf;
    if (leaf < 0) return null;
    const off = leaf * LEAF_STRIDE;
    return { count: this.leafCounts[leaf]!, head: Buffer.from(this.leafBytes.subarray(off + L_HEAD, off + L_HASH)) };
  }

  /** A proof of the index's value (membership) or of its absence (non-membership) against root(). */
  prove(index: Uint8Array): MapProof {
    assertHash(index, 'index');
    this.rehash(this.rootRef);
    const siblings: Buffer[] = [];
    const kids = this.kids;
    let ref = this.rootRef;
    let depth = 0;
    while (ref > 0) {
      const n = ref - 1;
      const bit = bitAt(index, depth++);
      siblings.push(this.hashCopy(kids[2 * n + 1 - bit]!));
      ref = kids[2 * n + bit]!;
    }
    if (ref === 0) return { siblings, terminal: { kind: 'empty' } };
    const leaf = -ref - 1;
    const off = leaf * LEAF_STRIDE;
    const head = Buffer.from(this.leafBytes.subarray(off + L_HEAD, off + L_HASH));
    const count = this.leafCounts[leaf]!;
    if (this.leafBytes.compare(index, 0, 32, off, off + 32) === 0) {
      const salt = Buffer.from(this.saltOf(index));
      return { siblings, terminal: { kind: 'member', count, head, salt } };
    }
    return { siblings, terminal: { kind: 'other', index: Buffer.from(this.leafBytes.subarray(off, off + 32)), valueHash: valueHash(count, head) } };
  }

  /** Every (index, value), in index order (for snapshots and the from-scratch cross-check). */
  *entries(): Generator<{ index: Buffer; value: MapValue }> {
    const stack: number[] = [this.rootRef];
    while (stack.length) {
      const ref = stack.pop()!;
      if (ref === 0) continue;
      if (ref < 0) {
        const leaf = -ref - 1;
        const off = leaf * LEAF_STRIDE;
        yield {
          index: Buffer.from(this.leafBytes.subarray(off, off + 32)),
          value: { count: this.leafCounts[leaf]!, head: Buffer.from(this.leafBytes.subarray(off + L_HEAD, off + L_HASH)) },
        };
      } else {
        const n = ref - 1;
        stack.push(this.kids[2 * n + 1]!, this.kids[2 * n]!);
      }
    }
  }

  /** The leaf holding `index` (−1 if none) and the depth where the walk ended. */
  private find(index: Uint8Array): { leaf: number; depth: number } {
    const kids = this.kids;
    let ref = this.rootRef;
    let depth = 0;
    while (ref > 0) ref = kids[2 * (ref - 1) + bitAt(index, depth++)]!;
    if (ref === 0) return { leaf: -1, depth };
    const leaf = -ref - 1;
    const off = leaf * LEAF_STRIDE;
    return { leaf: this.leafBytes.compare(index, 0, 32, off, off + 32) === 0 ? leaf : -1, depth };
  }

  private newLeaf(index: Uint8Array): number {
    const salt = this.saltOf(index);
    assertHash(salt, 'salt');
    const genesis = chainGenesis(index, salt);
    if (this.leaves === this.leafCounts.length) {
      const cap = 2 * this.leaves;
      const bytes = Buffer.alloc(cap * LEAF_STRIDE);
      this.leafBytes.copy(bytes);
      this.leafBytes = bytes;
      const counts = new Float64Array(cap);
      counts.set(this.leafCounts);
      this.leafCounts = counts;
      const dirty = new Uint8Array(cap);
      dirty.set(this.leafDirty);
      this.leafDirty = dirty;
    }
    const leaf = this.leaves++;
    const off = leaf * LEAF_STRIDE;
    this.leafBytes.set(index, off);
    genesis.copy(this.leafBytes, off + L_HEAD);
    this.leafCounts[leaf] = 0;
    this.leafDirty[leaf] = 1;
    return leaf;
  }

  private newInner(left: number, right: number): number {
    if (this.inners === this.innerDirty.length) {
      const cap = 2 * this.inners;
      const kids = new Int32Array(2 * cap);
      kids.set(this.kids);
      this.kids = kids;
      const hashes = Buffer.alloc(cap * MAP_HASH_BYTES);
      this.innerHashes.copy(hashes);
      this.innerHashes = hashes;
      const dirty = new Uint8Array(cap);
      dirty.set(this.innerDirty);
      this.innerDirty = dirty;
    }
    const n = this.inners++;
    this.kids[2 * n] = left;
    this.kids[2 * n + 1] = right;
    this.innerDirty[n] = 1;
    return n + 1;
  }

  /** The leaf of `index`, created (with the genesis head, count 0) if absent; marks its path dirty. */
  private findOrInsert(index: Uint8Array): number {
    let ref = this.rootRef;
    if (ref === 0) {
      const leaf = this.newLeaf(index);
      this.rootRef = -leaf - 1;
      return leaf;
    }
    let slot = -1; // the kids[] slot holding `ref`, −1 for the root
    let depth = 0;
    for (;;) {
      if (ref > 0) {
        const n = ref - 1;
        this.innerDirty[n] = 1;
        slot = 2 * n + bitAt(index, depth++);
        ref = this.kids[slot]!;
        if (ref === 0) {
          const leaf = this.newLeaf(index);
          this.kids[slot] = -leaf - 1;
          return leaf;
        }
        continue;
      }
      const old = -ref - 1;
      const off = old * LEAF_STRIDE;
      if (this.leafBytes.compare(index, 0, 32, off, off + 32) === 0) {
        this.leafDirty[old] = 1;
        return old;
      }
      // Split: inner nodes down to the first bit where the two indexes differ. The old leaf keeps
      // its hash (a leaf node's hash does not depend on its depth).
      let d = depth;
      while (bitAt(index, d) === bitAtOffset(this.leafBytes, off, d)) d++;
      const leaf = this.newLeaf(index);
      const mine = -leaf - 1;
      let sub = bitAt(index, d) ? this.newInner(ref, mine) : this.newInner(mine, ref);
      for (let k = d - 1; k >= depth; k--) sub = bitAt(index, k) ? this.newInner(0, sub) : this.newInner(sub, 0);
      if (slot < 0) this.rootRef = sub;
      else this.kids[slot] = sub;
      return leaf;
    }
  }

  /** Brings the hashes under `ref` up to date: each dirty node once, children first. */
  private rehash(ref: number): void {
    if (ref > 0) {
      const n = ref - 1;
      if (this.innerDirty[n] === 0) return;
      const left = this.kids[2 * n]!;
      const right = this.kids[2 * n + 1]!;
      this.rehash(left);
      this.rehash(right);
      this.hashInto(left, nodeScratch, 1);
      this.hashInto(right, nodeScratch, 33);
      hashNode(nodeScratch).copy(this.innerHashes, n * MAP_HASH_BYTES);
      this.innerDirty[n] = 0;
    } else if (ref < 0) {
      const leaf = -ref - 1;
      if (this.leafDirty[leaf] === 0) return;
      leafNodeHashAt(this.leafBytes, leaf * LEAF_STRIDE, this.leafCounts[leaf]!);
      this.leafDirty[leaf] = 0;
    }
  }

  /** Copies the (up-to-date) hash of `ref` into target[at .. at + 32]. */
  private hashInto(ref: number, target: Buffer, at: number): void {
    if (ref === 0) EMPTY_HASH.copy(target, at);
    else if (ref > 0) this.innerHashes.copy(target, at, (ref - 1) * MAP_HASH_BYTES, ref * MAP_HASH_BYTES);
    else {
      const off = (-ref - 1) * LEAF_STRIDE + L_HASH;
      this.leafBytes.copy(target, at, off, off + 32);
    }
  }

  private hashCopy(ref: number): Buffer {
    const out = Buffer.allocUnsafe(MAP_HASH_BYTES);
    this.hashInto(ref, out, 0);
    return out;
  }
}

function bitAtOffset(buf: Uint8Array, offset: number, depth: number): number {
  return ((buf[offset + (depth >> 3)] as number) >> (7 - (depth & 7))) & 1;
}

/**
 * The root over a set of (index, valueHash), computed from scratch by the recursive definition over
 * the sorted indexes: the reference the incremental SubjectMap is checked against, and what an
 * auditor holding only a snapshot of values runs.
 */
export function mapRootOf(entries: ReadonlyArray<{ index: Uint8Array; valueHash: Uint8Array }>): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.index, b.index));
  for (let i = 1; i < sorted.length; i++) {
    if (Buffer.compare(sorted[i - 1]!.index, sorted[i]!.index) === 0) throw new MapError('the same index twice');
  }
  const rec = (lo: number, hi: number, depth: number): Buffer => {
    if (hi === lo) return EMPTY_HASH;
    if (hi - lo === 1) return leafNodeHash(sorted[lo]!.index, sorted[lo]!.valueHash);
    let mid = lo;
    while (mid < hi && bitAt(sorted[mid]!.index, depth) === 0) mid++;
    return nodeHash(rec(lo, mid, depth + 1), rec(mid, hi, depth + 1));
  };
  return rec(0, sorted.length, 0);
}
