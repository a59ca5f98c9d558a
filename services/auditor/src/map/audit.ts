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

/** A subject leaf as the auditor reads it from a stored event: its pseudonym, the pseudonym key's id, its index. */
export interface PseudonymousLeaf {
  readonly logIndex: number;
  /** The subject's pseudonym in the event (HMAC of the CPR number under the epoch's key). */
  readonly pseudonym: Uint8Array | string;
  /** The pseudonym key (epoch) it was made under. */
  readonly keyId: string;
  readonly index: Uint8Array;
}

export type IndexConsistencyResult =
  | { readonly ok: true; readonly pseudonyms: number }
  | { readonly ok: false; readonly logIndex: number; readonly firstLogIndex: number; readonly detail: string };

/**
 * Without a VRF the auditor cannot check that an index is the subject's, but it can check that the
 * operator assigned them consistently: within a pseudonym key's epoch, pseudonym ↦ index is one-to-one.
 * A subject split across a decoy index (to hide some leaves from their report), or two subjects merged
 * under one index, shows as the first log index that breaks it (positions only, no subject named).
 */
export function checkIndexConsistency(leaves: Iterable<PseudonymousLeaf>): IndexConsistencyResult {
  const byPseudonym = new Map<string, { index: string; at: number }>();
  const byIndex = new Map<string, { pseudonym: string; at: number }>();
  for (const l of leaves) {
    assertHash(l.index, 'index');
    const p = `${l.keyId}\n${typeof l.pseudonym === 'string' ? l.pseudonym : Buffer.from(l.pseudonym).toString('hex')}`;
    const x = Buffer.from(l.index).toString('hex');
    const xe = `${l.keyId}\n${x}`;
    const seenP = byPseudonym.get(p);
    if (seenP && seenP.index !== x) {
      return { ok: false, logIndex: l.logIndex, firstLogIndex: seenP.at, detail: `leaf ${l.logIndex} gives its pseudonym another map index than leaf ${seenP.at} did` };
    }
    const seenX = byIndex.get(xe);
    if (seenX && seenX.pseudonym !== p) {
      return { ok: false, logIndex: l.logIndex, firstLogIndex: seenX.at, detail: `leaf ${l.logIndex} gives its map index another pseudonym of the same key than leaf ${seenX.at} did` };
    }
    if (!seenP) byPseudonym.set(p, { index: x, at: l.logIndex });
    if (!seenX) byIndex.set(xe, { pseudonym: p, at: l.logIndex });
  }
  return { ok: true, pseudonyms: byPseudonym.size };
}
