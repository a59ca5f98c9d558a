import { emptyRoot, largestPowerOfTwoBelow, nodeHash, subproofWith, type SubtreeHash } from './rfc9162.ts';
import { CompactRange } from './compact-range.ts';

/** The aligned subtrees [lo, hi) a compact range of `size` leaves keeps, largest (leftmost) first. */
export function frontierRanges(size: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(1, size))); bit >= 1; bit /= 2) {
    if (Math.floor(size / bit) % 2 === 1) {
      out.push([lo, lo + bit]);
      lo += bit;
    }
  }
  return out;
}

/**
 * The RFC 9162 consistency proof from size m to size n, computed without the first m leaves: only
 * the frontier of the m-leaf tree (`CompactRange.frontier()` at size m) and the leaf hashes of
 * [m, n). Every node SUBPROOF asks for lies either inside [0, m), where it is one of the frontier's
 * aligned subtrees, or inside [m, n). So `verify` can check consistency between consecutive
 * checkpoints while streaming, keeping only the leaves between them.
 */
export function consistencyProofFromFrontier(m: number, frontier: readonly Uint8Array[], window: readonly Uint8Array[], n: number): Buffer[] {
  if (window.length !== n - m) throw new RangeError(`need ${n - m} leaf hashes after ${m}, got ${window.length}`);
  if (m === 0 || m === n) return [];
  const ranges = frontierRanges(m);
  if (ranges.length !== frontier.length) throw new RangeError(`a tree of ${m} leaves has ${ranges.length} frontier hashes, got ${frontier.length}`);
  const known = new Map<string, Uint8Array>(ranges.map(([lo, hi], i) => [`${lo}:${hi}`, frontier[i]!]));
  const windowHash = (lo: number, hi: number): Buffer => {
    const count = hi - lo;
    if (count === 0) return emptyRoot();
    if (count === 1) return Buffer.from(window[lo - m]!);
    const k = largestPowerOfTwoBelow(count);
    return nodeHash(windowHash(lo, lo + k), windowHash(lo + k, hi));
  };
  const mth: SubtreeHash = (lo, hi) => {
    if (lo >= m) return windowHash(lo, hi);
    const h = known.get(`${lo}:${hi}`);
    if (!h) throw new RangeError(`consistency proof needs [${lo}, ${hi}), which is not a frontier subtree of ${m}`);
    return Buffer.from(h);
  };
  return subproofWith(mth, m, 0, n, true);
}

/**
 * What `verify` streams through: a compact range (like `CompactRange`) that also keeps the hashes of
 * the aligned subtrees it was asked for in advance (`want`), as they complete. With them, the
 * consistency proof between two checkpoint sizes costs O(log n) instead of re-hashing every leaf in
 * between: every node of the proof is a frontier node of m, a subtree completed in [m, n), or a fold
 * of the frontier of n (the right spine).
 */
export class CapturingRange extends CompactRange {
  readonly #wanted = new Map<number, Buffer | null>();

  /** Keep the hash of the aligned subtree [lo, lo + 2^level) when it completes. */
  want(lo: number, level: number): void {
    this.#wanted.set(lo * 64 + level, null);
  }

  /** A kept subtree hash (and forget it), or undefined. */
  take(lo: number, level: number): Buffer | undefined {
    const key = lo * 64 + level;
    const h = this.#wanted.get(key);
    if (h) this.#wanted.delete(key);
    return h ?? undefined;
  }

  protected override completed(lo: number, level: number, hash: Buffer): void {
    if (this.#wanted.size === 0) return;
    const key = lo * 64 + level;
    if (this.#wanted.has(key)) this.#wanted.set(key, hash);
  }
}

const isAligned = (lo: number, hi: number): boolean => {
  const w = hi - lo;
  return w >= 1 && (w & (w - 1)) === 0 && lo % w === 0;
};

/** The ranges SUBPROOF(m, D[0:n]) asks for (0 < m < n). */
export function consistencyRanges(m: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  const dummy = Buffer.alloc(32);
  subproofWith((lo, hi) => (out.push([lo, hi]), dummy), m, 0, n, true);
  return out;
}

/** Asks `range` to keep the subtrees in [m, n) the proof from m to n will need. */
export function wantConsistencyNodes(range: CapturingRange, m: number, n: number): void {
  if (m === 0 || m >= n) return;
  for (const [lo, hi] of consistencyRanges(m, n)) if (lo >= m && isAligned(lo, hi)) range.want(lo, Math.round(Math.log2(hi - lo)));
}

/**
 * The consistency proof from m to n, from the frontier of m, the subtrees `range` kept in [m, n) and
 * its frontier now (at size n). Undefined if a node was not kept (a size that was not planned).
 */
export function consistencyProofFromCapture(m: number, frontierM: readonly Uint8Array[], range: CapturingRange): Buffer[] | undefined {
  const n = range.size;
  if (m === 0 || m === n) return [];
  const left = new Map<string, Uint8Array>(frontierRanges(m).map(([lo, hi], i) => [`${lo}:${hi}`, frontierM[i]!]));
  const frontierN = range.frontier();
  const rangesN = frontierRanges(n);
  const spine = (lo: number): Buffer | undefined => {
    let h: Buffer | undefined;
    for (let i = rangesN.length - 1; i >= 0 && rangesN[i]![0] >= lo; i--) h = h === undefined ? frontierN[i]! : nodeHash(frontierN[i]!, h);
    return rangesN.some(([a]) => a === lo) ? h : undefined;
  };
  let missing = false;
  const proof = subproofWith(
    (lo, hi) => {
      let h: Uint8Array | undefined;
      if (hi <= m) h = left.get(`${lo}:${hi}`);
      else if (isAligned(lo, hi)) h = range.take(lo, Math.round(Math.log2(hi - lo))) ?? (hi === n ? spine(lo) : undefined);
      else if (hi === n) h = spine(lo);
      if (!h) {
        missing = true;
        return Buffer.alloc(32);
      }
      return Buffer.from(h);
    },
    m,
    0,
    n,
    true,
  );
  return missing ? undefined : proof;
}
