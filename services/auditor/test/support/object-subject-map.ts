import {
  appendToHeadIn, assertHash, assertU64, bitAt, chainGenesis, EMPTY_HASH, leafNodeHashIn, MAP_HASH_BYTES, MapError, nodeHash, valueHash,
  type MapEntry, type MapProof, type MapValue, type SaltOf, type SubjectMapOptions,
} from '@sporbar/auditor/map';

/**
 * The subject map as it was before the arena layout (commit 10a3e0c, services/auditor/src/map/tree.ts):
 * one JS object per leaf (with a 96-byte buffer) and per inner node. Kept verbatim as a reference:
 * the unit tests check that the arena SubjectMap gives the same roots and proofs byte for byte, and
 * the map-scale bench measures its heap beside the arena's. Not used by any service.
 */

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

export class ObjectSubjectMap {
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

