import { assertHash, assertU64, MapError } from './hash.ts';
import { SubjectMap, type SaltOf } from './tree.ts';

/**
 * The auditor's recomputation: replay the log's leaves in order into a SubjectMap and compare its root
 * with every map root the log committed to. The answer names only positions in the log (tree sizes),
 * never a subject: "the committed map at size S differs from the log; up to size G it agreed".
 */

/** One leaf of the log in order: its subject's map index, or null (a leaf about no subject). */
export interface LogLeaf {
  readonly logIndex: number;
  readonly leafHash: Uint8Array;
  readonly index: Uint8Array | null;
}

/** A map root the log committed to, for the log's first `size` leaves. */
export interface MapCommitment {
  readonly size: number;
  readonly root: Uint8Array;
}

export type MapAuditResult =
  | { readonly ok: true; readonly checked: number; readonly size: number; readonly root: Buffer }
  | {
      readonly ok: false;
      /** The first committed size whose root is not the log's. */
      readonly size: number;
      /** The last committed size that agreed (0 if none): the divergence is in log indexes [lastGoodSize, size). */
      readonly lastGoodSize: number;
      /** The root recomputed from the log, and the committed one. */
      readonly expected: Buffer;
      readonly committed: Buffer;
      readonly checked: number;
      readonly detail: string;
    };

/**
 * Recomputes the map from the log's leaves (contiguous from logIndex 0, in order) and checks each
 * commitment (sorted by size, sizes within the leaves given). Stops at the first divergence.
 * `map` may be a map already covering a prefix (incremental audit); then leaves start at map.size.
 */
export function auditMapCommitments(
  leaves: Iterable<LogLeaf>,
  commitments: readonly MapCommitment[],
  options: { saltOf: SaltOf; map?: SubjectMap },
): MapAuditResult {
  const map = options.map ?? new SubjectMap({ saltOf: options.saltOf });
  let lastGood = map.size;
  for (let i = 0; i < commitments.length; i++) {
    const c = commitments[i]!;
    assertU64(c.size, 'commitment size');
    assertHash(c.root, 'commitment root');
    if (c.size < map.size || (i > 0 && c.size <= commitments[i - 1]!.size)) throw new MapError('commitments must be in increasing size order, beyond what the map covers');
  }
  let next = map.size;
  let batch: { index: Uint8Array; logIndex: number; leafHash: Uint8Array }[] = [];
  let ci = 0;
  let checked = 0;
  const check = (): MapAuditResult | null => {
    const c = commitments[ci]!;
    map.apply(batch, c.size);
    batch = [];
    const expected = map.root();
    const committed = Buffer.from(c.root);
    ci++;
    checked++;
    if (!expected.equals(committed)) {
      return {
        ok: false, size: c.size, lastGoodSize: lastGood, expected, committed, checked,
        detail: `the map root committed at tree size ${c.size} is not the log's; it agreed up to size ${lastGood}, so the divergence is among log indexes ${lastGood}..${c.size - 1}`,
      };
    }
    lastGood = c.size;
    return null;
  };
  while (ci < commitments.length && commitments[ci]!.size === next) {
    const r = check();
    if (r) return r;
  }
  for (const leaf of leaves) {
    if (ci >= commitments.length) break;
    if (leaf.logIndex !== next) throw new MapError(`leaves must be contiguous: expected log index ${next}, got ${leaf.logIndex}`);
    if (leaf.index !== null) batch.push({ index: leaf.index, logIndex: leaf.logIndex, leafHash: leaf.leafHash });
    next++;
    while (ci < commitments.length && commitments[ci]!.size === next) {
      const r = check();
      if (r) return r;
    }
  }
  if (ci < commitments.length) throw new MapError(`the log ended at size ${next} before the commitment at size ${commitments[ci]!.size}`);
  return { ok: true, checked, size: map.size, root: map.root() };
}
