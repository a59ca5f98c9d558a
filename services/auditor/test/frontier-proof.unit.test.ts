import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { consistencyProofFromFrontier, frontierRanges } from '../src/merkle/frontier-proof.ts';
import { MerkleTree } from '../src/merkle/merkle-tree.ts';
import { leafHash } from '../src/merkle/rfc9162.ts';
import { checkpointEventId } from '../src/checkpoint/checkpoint-event.ts';

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(createHash('sha256').update(`leaf ${i}`).digest()));

describe('consistency proofs from a frontier and the leaves after it', () => {
  it('frontierRanges are the aligned subtrees of a compact range, largest first', () => {
    expect(frontierRanges(0)).toEqual([]);
    expect(frontierRanges(1)).toEqual([[0, 1]]);
    expect(frontierRanges(13)).toEqual([[0, 8], [8, 12], [12, 13]]);
  });

  it('equal the proof-serving tree for every 0 ≤ m ≤ n ≤ 70', () => {
    const tree = MerkleTree.fromLeafHashes(leaves);
    for (let m = 0; m <= 70; m++) {
      const range = new CompactRange();
      for (const h of leaves.slice(0, m)) range.appendLeafHash(h);
      const frontier = range.frontier();
      for (let n = m; n <= 70; n++) {
        expect(consistencyProofFromFrontier(m, frontier, leaves.slice(m, n), n)).toEqual(tree.consistencyProof(m, n));
      }
    }
  });

  it('checkpoint event ids are uuid v8, one per (origin, size)', () => {
    const id = checkpointEventId('sporbar.v1/x', 5);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(checkpointEventId('sporbar.v1/x', 5)).toBe(id);
    expect(checkpointEventId('sporbar.v1/x', 6)).not.toBe(id);
    expect(checkpointEventId('sporbar.v1/y', 5)).not.toBe(id);
  });
});

describe('consistency proofs captured while streaming', () => {
  it('equal the proof-serving tree for every 0 < m < n ≤ 70', async () => {
    const { CapturingRange, consistencyProofFromCapture, wantConsistencyNodes } = await import('../src/merkle/frontier-proof.ts');
    const tree = MerkleTree.fromLeafHashes(leaves);
    for (let m = 1; m < 70; m++) {
      for (let n = m + 1; n <= 70; n++) {
        const range = new CapturingRange();
        wantConsistencyNodes(range, m, n);
        let frontierM: Buffer[] = [];
        for (const h of leaves.slice(0, n)) {
          if (range.size === m) frontierM = range.frontier();
          range.appendLeafHash(h);
        }
        expect(range.root()).toEqual(tree.root(n));
        expect(consistencyProofFromCapture(m, frontierM, range), `${m}→${n}`).toEqual(tree.consistencyProof(m, n));
      }
    }
  });
});
