import {
  HASH_BYTES,
  checkConsistencyArgs,
  checkInclusionArgs,
  emptyRoot,
  isPowerOfTwo,
  largestPowerOfTwoBelow,
  leafHash,
  nodeHash,
  pathWith,
  subproofWith,
  type SubtreeHash,
} from './rfc9162.ts';

/**
 * An in-memory RFC 9162 tree that serves inclusion and consistency proofs for every tree size up to
 * its own, built from the stored list of leaf hashes (one per event, in global order).
 *
 * It keeps every perfect, aligned subtree hash: level k holds floor(size / 2^k) hashes packed in one
 * buffer, 2 × 32 bytes per leaf in all (64 MB per million events). Those are exactly the left
 * children of the RFC recursion, so a proof runs the RFC's own PATH / SUBPROOF recursion
 * (`pathWith` / `subproofWith`, shared with the reference) with O(log² n) hashing instead of O(n).
 *
 * Proofs for large logs without holding all leaves in memory (tiles, as in Trillian Tessera) are not
 * done yet: for now the API loads the leaf hashes and builds one of these.
 */
export class MerkleTree {
  #size = 0;
  /** levels[k]: packed hashes of the perfect subtrees of 2^k leaves, in order; capacity grows by doubling. */
  readonly #levels: Buffer[] = [];

  static fromLeafHashes(leafHashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const h of leafHashes) tree.appendLeafHash(h);
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf given by its bytes; returns its leaf hash. */
  appendLeaf(bytes: Uint8Array): Buffer {
    const h = leafHash(bytes);
    this.appendLeafHash(h);
    return h;
  }

  /** Appends one leaf hash (32 bytes); amortised one node hash per append. */
  appendLeafHash(hash: Uint8Array): void {
    if (hash.length !== HASH_BYTES) throw new RangeError(`leaf hash has ${hash.length} bytes, expected ${HASH_BYTES}`);
    let index = this.#size;
    let level = 0;
    this.#put(0, index, hash);
    while (index % 2 === 1) {
      const parent = nodeHash(this.#node(level, index - 1), this.#node(level, index));
      index = (index - 1) / 2;
      level++;
      this.#put(level, index, parent);
    }
    this.#size++;
  }

  /** The leaf hash at `index` (a copy). */
  leafHash(index: number): Buffer {
    checkInclusionArgs(index, this.#size, this.#size);
    return Buffer.from(this.#node(0, index));
  }

  /**
   * `count` consecutive stored subtree hashes at tree level `level` (subtrees of 2^level leaves), from
   * subtree `from`: one copy out of the level's buffer, no hashing. A C2SP tile of level L, index N,
   * width W is `hashes(8·L, 256·N, W)` (see tiles.ts).
   */
  hashes(level: number, from: number, count: number): Buffer {
    const available = Math.floor(this.#size / 2 ** level);
    if (!Number.isInteger(level) || level < 0 || !Number.isSafeInteger(from) || !Number.isSafeInteger(count) || from < 0 || count < 0 || from + count > available) {
      throw new RangeError(`hashes(${level}, ${from}, ${count}): the tree of ${this.#size} leaves has ${available} hashes at level ${level}`);
    }
    if (count === 0) return Buffer.alloc(0);
    const buf = this.#levels[level]!;
    return Buffer.from(buf.subarray(from * HASH_BYTES, (from + count) * HASH_BYTES));
  }

  /** MTH(D[0:treeSize]) for any treeSize ≤ size. */
  root(treeSize = this.#size): Buffer {
    checkConsistencyArgs(0, treeSize, this.#size);
    return this.#mth(0, treeSize);
  }

  /** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `treeSize` leaves. */
  inclusionProof(index: number, treeSize = this.#size): Buffer[] {
    checkInclusionArgs(index, treeSize, this.#size);
    return pathWith(this.#mth, index, 0, treeSize);
  }

  /** RFC 9162 §2.1.4.1 consistency proof from size m to size n (empty for m = 0 and m = n). */
  consistencyProof(m: number, n = this.#size): Buffer[] {
    checkConsistencyArgs(m, n, this.#size);
    if (m === 0 || m === n) return [];
    return subproofWith(this.#mth, m, 0, n, true);
  }

  readonly #mth: SubtreeHash = (lo, hi) => {
    const n = hi - lo;
    if (n === 0) return emptyRoot();
    if (isPowerOfTwo(n) && lo % n === 0) return Buffer.from(this.#node(Math.round(Math.log2(n)), lo / n));
    // Not a stored subtree: the right edge of some tree size. Proofs against one size (an export, the
    // API's latest checkpoint) ask for the same few edges again and again, so they are remembered.
    const key = lo * 2 ** 26 + hi;
    const cached = this.#edges.get(key);
    if (cached && cached.lo === lo && cached.hi === hi) return Buffer.from(cached.hash);
    const k = largestPowerOfTwoBelow(n);
    const hash = nodeHash(this.#mth(lo, lo + k), this.#mth(lo + k, hi));
    if (this.#edges.size >= 4096) this.#edges.clear();
    this.#edges.set(key, { lo, hi, hash });
    return Buffer.from(hash);
  };

  /** Memo of non-aligned subtree hashes (right edges); the tree only grows, so they never go stale. */
  readonly #edges = new Map<number, { lo: number; hi: number; hash: Buffer }>();

  #node(level: number, index: number): Buffer {
    const offset = index * HASH_BYTES;
    return this.#levels[level]!.subarray(offset, offset + HASH_BYTES);
  }

  #put(level: number, index: number, hash: Uint8Array): void {
    const offset = index * HASH_BYTES;
    let buf = this.#levels[level];
    if (buf === undefined || buf.length < offset + HASH_BYTES) {
      const grown = Buffer.alloc(Math.max(HASH_BYTES * 16, (buf?.length ?? 0) * 2));
      if (buf !== undefined) buf.copy(grown);
      this.#levels[level] = buf = grown;
    }
    buf.set(hash, offset);
  }
}
