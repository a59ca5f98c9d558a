import { HASH_BYTES, emptyRoot, leafHash, nodeHash } from './rfc9162.ts';

/**
 * A streaming RFC 9162 Merkle tree: the "compact range" [0, size) of transparency-dev's
 * merkle/compact package, i.e. the frontier of the tree. Leaves are appended one at a time and only
 * the roots of the perfect subtrees that make up the range are kept, one per set bit of `size`, so
 * memory is O(log n) (at most 53 hashes) whatever the number of leaves. `root()` folds them, smallest
 * first, into MTH(D[0:size]).
 *
 * This is what `verify` uses to recompute the root over millions of events with flat memory. It
 * cannot produce proofs (the interior nodes are gone): proofs come from `MerkleTree`, built from the
 * stored list of leaf hashes.
 *
 * Each append costs one leaf hash plus, on average, one node hash (n - 1 in total for n leaves).
 */
export class CompactRange {
  #size = 0;
  /** nodes[level] = MTH of the perfect subtree of 2^level leaves, present iff bit `level` of size is set. */
  readonly #nodes: (Buffer | undefined)[] = [];

  /** Restores a range saved with `frontier()`: the subtree roots from the largest to the smallest. */
  static fromFrontier(size: number, frontier: readonly Uint8Array[]): CompactRange {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size ${size} is not a non-negative safe integer`);
    const range = new CompactRange();
    const levels: number[] = [];
    for (let level = 0, s = size; s > 0; level++, s = Math.floor(s / 2)) if (s % 2 === 1) levels.unshift(level);
    if (levels.length !== frontier.length) {
      throw new RangeError(`a range of size ${size} has ${levels.length} frontier hashes, got ${frontier.length}`);
    }
    levels.forEach((level, i) => {
      const h = frontier[i]!;
      if (h.length !== HASH_BYTES) throw new RangeError(`frontier hash ${i} has ${h.length} bytes, expected ${HASH_BYTES}`);
      range.#nodes[level] = Buffer.from(h);
    });
    range.#size = size;
    return range;
  }

  /** Number of leaves appended so far (the tree size the root is for). */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf given by its bytes (the stored event); hashes it with SHA-256(0x00 ‖ bytes). */
  appendLeaf(bytes: Uint8Array): void {
    this.#push(leafHash(bytes));
  }

  /** Appends one leaf given by its leaf hash (32 bytes; copied). */
  appendLeafHash(hash: Uint8Array): void {
    if (hash.length !== HASH_BYTES) throw new RangeError(`leaf hash has ${hash.length} bytes, expected ${HASH_BYTES}`);
    this.#push(Buffer.from(hash));
  }

  #push(hash: Buffer): void {
    if (this.#size === Number.MAX_SAFE_INTEGER) throw new RangeError('tree size would exceed Number.MAX_SAFE_INTEGER');
    const nodes = this.#nodes;
    const end = this.#size + 1;
    let h = hash;
    let level = 0;
    this.completed(this.#size, 0, h);
    // Binary increment: every trailing 1 bit of size is a perfect subtree the new leaf completes.
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) {
      h = nodeHash(nodes[level]!, h);
      nodes[level] = undefined;
      level++;
      this.completed(end - 2 ** level, level, h);
    }
    nodes[level] = h;
    this.#size++;
  }

  /** Called with every perfect subtree [lo, lo + 2^level) as it completes (leaves included); for subclasses. */
  protected completed(_lo: number, _level: number, _hash: Buffer): void {}

  /** MTH(D[0:size]) (RFC 9162 §2.1.1); SHA-256("") when empty. A fresh buffer. O(log n) hashing. */
  root(): Buffer {
    let root: Buffer | undefined;
    for (const node of this.#nodes) {
      if (node === undefined) continue;
      root = root === undefined ? Buffer.from(node) : nodeHash(node, root);
    }
    return root ?? emptyRoot();
  }

  /** The subtree roots from the largest (leftmost) to the smallest: what to persist to resume later. */
  frontier(): Buffer[] {
    const out: Buffer[] = [];
    for (let level = this.#nodes.length - 1; level >= 0; level--) {
      const node = this.#nodes[level];
      if (node !== undefined) out.push(Buffer.from(node));
    }
    return out;
  }
}

/** MTH over a stream of leaves (event bytes) with O(log n) memory; for `verify` over the whole log. */
export async function streamRoot(leaves: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ treeSize: number; rootHash: Buffer }> {
  const range = new CompactRange();
  for await (const leaf of leaves) range.appendLeaf(leaf);
  return { treeSize: range.size, rootHash: range.root() };
}
