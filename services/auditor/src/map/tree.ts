import { createHmac } from 'node:crypto';
import {
  appendToHeadIn, assertHash, assertU64, bitAt, chainGenesis, EMPTY_HASH, leafNodeHash, leafNodeHashIn, MAP_HASH_BYTES, MapError, nodeHash, valueHash,
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
 * Updates are incremental: applying a batch marks the touched leaves and their ancestors dirty and
 * `root()` rehashes only those. Memory per subject: one leaf (index, head, hash in one 96-byte buffer)
 * and about one inner node (a 32-byte hash); see docs/subject-map.md for measurements.
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

// Leaf buffer layout: index | head | node hash.
const IDX = 0;
const HEAD = 32;
const HASH = 64;

class Leaf {
  dirty = true;
  count = 0;
  constructor(readonly buf: Buffer) {}
  get index(): Buffer {
    return this.buf.subarray(IDX, IDX + 32);
  }
  get head(): Buffer {
    return this.buf.subarray(HEAD, HEAD + 32);
  }
}

class Inner {
  dirty = true;
  readonly hash: Buffer = Buffer.allocUnsafe(MAP_HASH_BYTES);
  constructor(public left: Child, public right: Child) {}
}

type Child = Leaf | Inner | null;

export interface SubjectMapOptions {
  readonly saltOf: SaltOf;
}

export class SubjectMap {
  private rootNode: Child = null;
  private subjects = 0;
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
    return this.subjects;
  }

  /**
   * Applies the subject leaves of the log range [size, upTo): the order inside the batch does not
   * matter (entries are taken in log order), each logIndex must be in the range and appear once.
   * Leaves of the range that belong to no subject are simply not in the batch. Without `upTo` the map
   * then covers up to the largest logIndex + 1. A malformed batch throws before anything changes (a
   * saltOf that throws or returns a wrong-sized salt can leave it half-applied: rebuild then).
   */
  apply(batch: readonly MapEntry[], upTo?: number): void {
    const sorted = [...batch].sort((a, b) => a.logIndex - b.logIndex);
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
      appendToHeadIn(leaf.buf, e.logIndex, e.leafHash);
      leaf.count++;
    }
    this.covered = end;
  }

  /** The root over the current contents (rehashing only what changed since the last call). */
  root(): Buffer {
    return Buffer.from(this.hashOf(this.rootNode));
  }

  /** The value for an index, or null when it has no leaf. */
  get(index: Uint8Array): MapValue | null {
    assertHash(index, 'index');
    let node = this.rootNode;
    let depth = 0;
    while (node instanceof Inner) node = bitAt(index, depth++) ? node.right : node.left;
    if (node === null || node.buf.compare(index, 0, 32, IDX, IDX + 32) !== 0) return null;
    return { count: node.count, head: Buffer.from(node.head) };
  }

  /** A proof of the index's value (membership) or of its absence (non-membership) against root(). */
  prove(index: Uint8Array): MapProof {
    assertHash(index, 'index');
    this.hashOf(this.rootNode);
    const siblings: Buffer[] = [];
    let node = this.rootNode;
    let depth = 0;
    while (node instanceof Inner) {
      const right = bitAt(index, depth++) === 1;
      siblings.push(Buffer.from(this.hashOf(right ? node.left : node.right)));
      node = right ? node.right : node.left;
    }
    if (node === null) return { siblings, terminal: { kind: 'empty' } };
    if (node.buf.compare(index, 0, 32, IDX, IDX + 32) === 0) {
      const salt = Buffer.from(this.saltOf(index));
      return { siblings, terminal: { kind: 'member', count: node.count, head: Buffer.from(node.head), salt } };
    }
    return { siblings, terminal: { kind: 'other', index: Buffer.from(node.index), valueHash: valueHash(node.count, node.head) } };
  }

  /** Every (index, value), in index order (for snapshots and the from-scratch cross-check). */
  *entries(): Generator<{ index: Buffer; value: MapValue }> {
    const stack: Child[] = [this.rootNode];
    while (stack.length) {
      const n = stack.pop()!;
      if (n === null) continue;
      if (n instanceof Leaf) yield { index: Buffer.from(n.index), value: { count: n.count, head: Buffer.from(n.head) } };
      else stack.push(n.right, n.left);
    }
  }

  private newLeaf(index: Uint8Array): Leaf {
    const buf = Buffer.allocUnsafe(96);
    buf.set(index, IDX);
    const salt = this.saltOf(index);
    assertHash(salt, 'salt');
    buf.set(chainGenesis(index, salt), HEAD);
    this.subjects++;
    return new Leaf(buf);
  }

  /** The leaf of `index`, created (with the genesis head, count 0) if absent; marks its path dirty. */
  private findOrInsert(index: Uint8Array): Leaf {
    if (this.rootNode === null) return (this.rootNode = this.newLeaf(index));
    let parent: Inner | null = null;
    let node: Leaf | Inner = this.rootNode;
    let depth = 0;
    for (;;) {
      if (node instanceof Inner) {
        node.dirty = true;
        const right = bitAt(index, depth) === 1;
        const child: Child = right ? node.right : node.left;
        if (child === null) {
          const leaf = this.newLeaf(index);
          if (right) node.right = leaf;
          else node.left = leaf;
          return leaf;
        }
        parent = node;
        node = child;
        depth++;
        continue;
      }
      node.dirty = true;
      if (node.buf.compare(index, 0, 32, IDX, IDX + 32) === 0) return node;
      // Split: inner nodes down to the first bit where the two indexes differ.
      const leaf = this.newLeaf(index);
      const old = node;
      let d = depth;
      while (bitAt(index, d) === bitAt(old.buf, d)) d++;
      let sub: Inner = bitAt(index, d) ? new Inner(old, leaf) : new Inner(leaf, old);
      for (let k = d - 1; k >= depth; k--) sub = bitAt(index, k) ? new Inner(null, sub) : new Inner(sub, null);
      if (parent === null) this.rootNode = sub;
      else if (parent.left === old) parent.left = sub;
      else parent.right = sub;
      return leaf;
    }
  }

  private hashOf(n: Child): Buffer {
    if (n === null) return EMPTY_HASH;
    if (!n.dirty) return n instanceof Leaf ? n.buf.subarray(HASH, HASH + 32) : n.hash;
    if (n instanceof Leaf) {
      leafNodeHashIn(n.buf, n.count);
      n.dirty = false;
      return n.buf.subarray(HASH, HASH + 32);
    }
    n.hash.set(nodeHash(this.hashOf(n.left), this.hashOf(n.right)));
    n.dirty = false;
    return n.hash;
  }
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
