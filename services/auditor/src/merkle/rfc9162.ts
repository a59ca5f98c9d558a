import { hash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing over the log's global order.
 *
 *   MTH({})        = SHA-256()                                  (§2.1.1, the empty tree)
 *   MTH({d(0)})    = SHA-256(0x00 ‖ d(0))                       (leaf hash)
 *   MTH(D[n])      = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))  k = largest power of two < n
 *
 * The leaves are the stored event bytes in global order (see event-store `port.ts`). The 0x00 / 0x01
 * domain separation keeps a leaf from ever being read as an interior node (second preimage).
 *
 * Everything here is pure and synchronous. Sizes and indexes are JS numbers: integers up to
 * Number.MAX_SAFE_INTEGER (2^53 - 1) are handled exactly (no 32-bit `>>`).
 *
 * Proof generation in this file is the RFC's recursive definition over an in-memory list of leaf hashes
 * (O(n) hashing per proof): it is the reference. The API serves proofs from `MerkleTree`
 * (`merkle-tree.ts`), which runs the same recursion over cached subtree hashes (O(log² n) per proof)
 * built from the stored list of leaf hashes. Verification never depends on how a proof was made.
 */

export const HASH_BYTES = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/** MTH of the empty tree: SHA-256 of the empty string (e3b0c442…b855). A fresh copy each call. */
export const emptyRoot = (): Buffer => Buffer.from(EMPTY_ROOT);

// One scratch buffer per purpose: copying into it and hashing once (crypto.hash) is ~2x faster than
// createHash().update().update().digest() for 300-byte leaves. Safe: JS runs this synchronously.
const MAX_SCRATCH = 64 * 1024;
let leafScratch = Buffer.alloc(1024);
const nodeScratch = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeScratch[0] = NODE_PREFIX;

/** SHA-256(0x00 ‖ bytes): the hash of one leaf (one stored event). */
export function leafHash(bytes: Uint8Array): Buffer {
  const need = bytes.length + 1;
  if (need > leafScratch.length) {
    if (need > MAX_SCRATCH) return sha256(Buffer.concat([Buffer.of(LEAF_PREFIX), bytes]));
    leafScratch = Buffer.alloc(Math.min(MAX_SCRATCH, 2 ** Math.ceil(Math.log2(need))));
  }
  leafScratch[0] = LEAF_PREFIX;
  leafScratch.set(bytes, 1);
  return sha256(leafScratch.subarray(0, need));
}

/** SHA-256(0x01 ‖ left ‖ right): an interior node. Both children must be 32-byte hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) {
    throw new RangeError(`nodeHash needs two ${HASH_BYTES}-byte hashes, got ${left.length} and ${right.length}`);
  }
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return sha256(nodeScratch);
}

/** The largest power of two strictly less than n (n ≥ 2): the RFC's split point k. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export const isPowerOfTwo = (n: number): boolean => n >= 1 && largestPowerOfTwoBelow(n + 1) === n;

const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** MTH(D[lo:hi]) of a list of leaf hashes: the subtree-hash oracle the proof recursions call. */
export type SubtreeHash = (lo: number, hi: number) => Buffer;

function referenceSubtreeHash(leafHashes: readonly Uint8Array[]): SubtreeHash {
  const mth: SubtreeHash = (lo, hi) => {
    const n = hi - lo;
    if (n === 0) return emptyRoot();
    if (n === 1) return Buffer.from(leafHashes[lo]!);
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  return mth;
}

/** Reference MTH (RFC 9162 §2.1.1), recursive, over a list of leaf hashes. */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  return referenceSubtreeHash(leafHashes)(0, leafHashes.length);
}

/** PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, leaf-side first. Shared by the reference and `MerkleTree`. */
export function pathWith(mth: SubtreeHash, m: number, lo: number, hi: number, out: Buffer[] = []): Buffer[] {
  const n = hi - lo;
  if (n <= 1) return out;
  const k = largestPowerOfTwoBelow(n);
  if (m < k) {
    pathWith(mth, m, lo, lo + k, out);
    out.push(mth(lo + k, hi));
  } else {
    pathWith(mth, m - k, lo + k, hi, out);
    out.push(mth(lo, lo + k));
  }
  return out;
}

/** SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1. Shared by the reference and `MerkleTree`. */
export function subproofWith(mth: SubtreeHash, m: number, lo: number, hi: number, b: boolean, out: Buffer[] = []): Buffer[] {
  const n = hi - lo;
  if (m === n) {
    if (!b) out.push(mth(lo, hi));
    return out;
  }
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) {
    subproofWith(mth, m, lo, lo + k, b, out);
    out.push(mth(lo + k, hi));
  } else {
    subproofWith(mth, m - k, lo + k, hi, false, out);
    out.push(mth(lo, lo + k));
  }
  return out;
}

export function checkInclusionArgs(index: number, treeSize: number, available: number): void {
  if (!isSize(treeSize) || treeSize > available) throw new RangeError(`tree size ${treeSize} is not within 1..${available}`);
  if (!isSize(index) || index >= treeSize) throw new RangeError(`leaf index ${index} is not within 0..${treeSize - 1}`);
}

export function checkConsistencyArgs(m: number, n: number, available: number): void {
  if (!isSize(n) || n > available) throw new RangeError(`tree size ${n} is not within 0..${available}`);
  if (!isSize(m) || m > n) throw new RangeError(`old tree size ${m} is not within 0..${n}`);
}

/**
 * The inclusion proof of leaf `index` in the tree of the first `treeSize` leaves (RFC 9162 §2.1.3.1),
 * ordered from the leaf's sibling up to the root's child. Reference implementation: O(treeSize) hashing.
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, treeSize = leafHashes.length): Buffer[] {
  checkInclusionArgs(index, treeSize, leafHashes.length);
  return pathWith(referenceSubtreeHash(leafHashes), index, 0, treeSize);
}

/**
 * The consistency proof from tree size m to tree size n (RFC 9162 §2.1.4.1, PROOF(m, D[n]) =
 * SUBPROOF(m, D[n], true)). The RFC defines it for 0 < m < n; for m = 0 and m = n the proof is empty
 * (see `verifyConsistency`). Reference implementation: O(n) hashing.
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], m: number, n = leafHashes.length): Buffer[] {
  checkConsistencyArgs(m, n, leafHashes.length);
  if (m === 0 || m === n) return [];
  return subproofWith(referenceSubtreeHash(leafHashes), m, 0, n, true);
}

const isHash = (h: Uint8Array): boolean => h instanceof Uint8Array && h.length === HASH_BYTES;
const sameHash = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * RFC 9162 §2.1.3.2, step by step. Returns false (never throws) for any malformed input: a proof
 * element or hash that is not 32 bytes, a negative or fractional index or size, index ≥ size.
 *
 * Note what an inclusion proof proves: that `root` commits to `leafHash` at `leafIndex` in a tree of
 * `treeSize`. The size is bound to the root by the signed tree head, not by the proof: for some
 * (index, size) pairs the same path is valid for a neighbouring size too, so always verify against a
 * root taken from a checkpoint of exactly `treeSize`.
 */
export function verifyInclusion(leafIndex: number, treeSize: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isSize(leafIndex) || !isSize(treeSize) || !isHash(leafHash) || !isHash(root) || !proof.every(isHash)) return false;
  // 1. If leaf_index is greater than or equal to tree_size, then stop and fail the proof verification.
  if (leafIndex >= treeSize) return false;
  // 2. Set fn to leaf_index and sn to tree_size - 1.
  let fn = leafIndex;
  let sn = treeSize - 1;
  // 3. Set r to hash.
  let r: Buffer = Buffer.from(leafHash);
  // 4. For each value p in the inclusion_path array:
  for (const p of proof) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (odd(fn) || fn === sn) {
      // i. Set r to HASH(0x01 || p || r).
      r = nodeHash(p, r);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      // Otherwise: Set r to HASH(0x01 || r || p).
      r = nodeHash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. Compare sn to 0. Compare r against the root. If sn is equal to 0 and r and the root are equal,
  //    then the log has proven the inclusion of hash. Otherwise, fail the proof verification.
  return sn === 0 && sameHash(r, root);
}

/**
 * RFC 9162 §2.1.4.2, step by step, for 0 < m < n. The RFC leaves two edges undefined; like the
 * transparency-dev verifier this accepts them only with an empty proof:
 *   m = n: the two roots must be equal;  m = 0: rootM must be MTH({}) = SHA-256("").
 * Returns false (never throws) for malformed input, m > n included.
 */
export function verifyConsistency(m: number, n: number, rootM: Uint8Array, rootN: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!isSize(m) || !isSize(n) || m > n || !isHash(rootM) || !isHash(rootN) || !proof.every(isHash)) return false;
  if (m === 0) return proof.length === 0 && sameHash(rootM, EMPTY_ROOT);
  if (m === n) return proof.length === 0 && sameHash(rootM, rootN);
  // 1. If consistency_path is an empty array, then stop and fail the proof verification.
  if (proof.length === 0) return false;
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = m - 1;
  let sn = n - 1;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = fr;
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of path.slice(1)) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (odd(fn) || fn === sn) {
      // i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      // Otherwise: Set sr to HASH(0x01 || sr || c).
      sr = nodeHash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
  return sn === 0 && sameHash(fr, rootM) && sameHash(sr, rootN);
}
