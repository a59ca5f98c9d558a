import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  MerkleTree,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  streamRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.ts';

// Independent SHA-256 (createHash, not the crypto.hash + scratch path the code uses).
const sha256 = (...parts: (Uint8Array | number[])[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(Array.isArray(p) ? Buffer.from(p) : p);
  return h.digest();
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Buffer => Buffer.from(s, 'hex');
const flipBit = (b: Uint8Array, bit = 0): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

/** Deterministic leaves of varying length (0..299 bytes) so leaf hashing sees short and long inputs. */
const leafData = (i: number): Buffer => {
  const out = Buffer.alloc(i % 300);
  for (let j = 0; j < out.length; j++) out[j] = (i * 31 + j * 7) & 0xff;
  return out;
};

describe('RFC 9162 hashing: hand-checked small trees', () => {
  it('the empty tree is SHA-256 of the empty string', () => {
    expect(hex(rootFromLeafHashes([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(new CompactRange().root())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('a leaf hash is SHA-256(0x00 ‖ bytes) and a node hash SHA-256(0x01 ‖ l ‖ r)', () => {
    expect(hex(leafHash(Buffer.alloc(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const data = Buffer.from('disclosure #1');
    expect(leafHash(data)).toEqual(sha256([0x00], data));
    const big = Buffer.alloc(100_000, 0xab); // past the scratch buffer cap
    expect(leafHash(big)).toEqual(sha256([0x00], big));
    const l = sha256(Buffer.from('l'));
    const r = sha256(Buffer.from('r'));
    expect(nodeHash(l, r)).toEqual(sha256([0x01], l, r));
    expect(nodeHash(r, l)).not.toEqual(nodeHash(l, r));
    expect(() => nodeHash(l, r.subarray(1))).toThrow(RangeError);
  });

  it('roots of 1, 2, 3 and 5 leaves follow the split at the largest power of two', () => {
    const d = ['a', 'b', 'c', 'd', 'e'].map((s) => Buffer.from(s));
    const h = d.map((x) => sha256([0x00], x));
    expect(rootFromLeafHashes(h.slice(0, 1))).toEqual(sha256([0x00], d[0]!));
    const r2 = sha256([0x01], h[0]!, h[1]!);
    expect(rootFromLeafHashes(h.slice(0, 2))).toEqual(r2);
    expect(rootFromLeafHashes(h.slice(0, 3))).toEqual(sha256([0x01], r2, h[2]!));
    const r4 = sha256([0x01], r2, sha256([0x01], h[2]!, h[3]!));
    expect(rootFromLeafHashes(h)).toEqual(sha256([0x01], r4, h[4]!));
  });
});

describe('RFC 6962 reference vectors (certificate-transparency merkle_tree_test, transparency-dev testdata)', () => {
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(fromHex(h)));
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  const tree = MerkleTree.fromLeafHashes(leaves);

  it('roots of the first 1..8 leaves', () => {
    roots.forEach((root, i) => {
      expect(hex(rootFromLeafHashes(leaves.slice(0, i + 1)))).toBe(root);
      expect(hex(tree.root(i + 1))).toBe(root);
    });
    const range = new CompactRange();
    for (const h of leaves) range.appendLeafHash(h);
    expect(hex(range.root())).toBe(roots[7]);
  });

  it.each([
    [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
    [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
    [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
    [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
    [0, 1, []],
  ])('inclusion proof of leaf %i in a tree of %i', (index, size, expected) => {
    expect(inclusionProof(leaves, index, size).map(hex)).toEqual(expected);
    expect(tree.inclusionProof(index, size).map(hex)).toEqual(expected);
    expect(verifyInclusion(index, size, leaves[index]!, expected.map(fromHex), fromHex(roots[size - 1]!))).toBe(true);
  });

  it.each([
    [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
    [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
    [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
    [1, 1, []],
  ])('consistency proof from %i to %i', (m, n, expected) => {
    expect(consistencyProof(leaves, m, n).map(hex)).toEqual(expected);
    expect(tree.consistencyProof(m, n).map(hex)).toEqual(expected);
    expect(verifyConsistency(m, n, fromHex(roots[m - 1]!), fromHex(roots[n - 1]!), expected.map(fromHex))).toBe(true);
  });
});

describe('every proof of every tree up to 300 leaves', () => {
  const MAX = 300;
  const leaves = Array.from({ length: MAX }, (_, i) => leafHash(leafData(i)));
  const tree = MerkleTree.fromLeafHashes(leaves);
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootFromLeafHashes(leaves.slice(0, n)));
  const expectedPathLength = (index: number, size: number): number => {
    // Levels where the node on the leaf's path has a sibling: RFC 9162 PATH length.
    let len = 0;
    for (let lo = 0, hi = size, m = index; hi - lo > 1; len++) {
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      if (m < k) hi = lo + k;
      else [lo, m] = [lo + k, m - k];
    }
    return len;
  };

  it('the cached tree root equals the reference root at every size 0..300', () => {
    for (let n = 0; n <= MAX; n++) expect(tree.root(n)).toEqual(roots[n]);
  });

  it('every inclusion proof (45,150 of them) verifies, with the RFC path length', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i, n);
        if (proof.length !== expectedPathLength(i, n)) throw new Error(`inclusion ${i} in ${n}: ${proof.length} elements`);
        if (!verifyInclusion(i, n, leaves[i]!, proof, roots[n]!)) throw new Error(`inclusion ${i} in ${n} fails`);
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('every consistency proof 0 ≤ m ≤ n ≤ 300 (45,451 of them) verifies', () => {
    let checked = 0;
    for (let n = 0; n <= MAX; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        if (!verifyConsistency(m, n, roots[m]!, roots[n]!, proof)) throw new Error(`consistency ${m} -> ${n} fails`);
        checked++;
      }
    }
    expect(checked).toBe(((MAX + 1) * (MAX + 2)) / 2);
  });

  it('the reference (recursive) proofs equal the cached-tree proofs for every size up to 64', () => {
    for (let n = 1; n <= 64; n++) {
      const prefix = leaves.slice(0, n);
      for (let i = 0; i < n; i++) expect(inclusionProof(prefix, i).map(hex).join()).toBe(tree.inclusionProof(i, n).map(hex).join());
      for (let m = 0; m <= n; m++) expect(consistencyProof(prefix, m).map(hex).join()).toBe(tree.consistencyProof(m, n).map(hex).join());
    }
  });

  it('a flipped bit anywhere, a wrong index or the root of another size fails inclusion (sizes 1..100, every leaf)', () => {
    const accepted: string[] = []; // every forgery below that verifies; must stay empty
    let tried = 0;
    const reject = (what: string, ok: boolean) => {
      tried++;
      if (ok) accepted.push(what);
    };
    for (let n = 1; n <= 100; n++) {
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i, n);
        const leaf = leaves[i]!;
        const root = roots[n]!;
        proof.forEach((p, k) => {
          for (const bit of [0, 133, 255]) {
            const bad = proof.map((q, j) => (j === k ? flipBit(p, bit) : q));
            reject(`${i}/${n} element ${k} bit ${bit}`, verifyInclusion(i, n, leaf, bad, root));
          }
        });
        reject(`${i}/${n} leaf`, verifyInclusion(i, n, flipBit(leaf, 7), proof, root));
        reject(`${i}/${n} root`, verifyInclusion(i, n, leaf, proof, flipBit(root, 200)));
        // Every other index for small trees; the neighbours, the mirror and the last leaf for larger ones.
        const others = n <= 40 ? Array.from({ length: n }, (_, j) => j) : [i - 1, i + 1, i ^ 1, n - 1 - i, n - 1, 0];
        for (const j of others) if (j !== i && j >= 0 && j < n) reject(`${i}/${n} as index ${j}`, verifyInclusion(j, n, leaf, proof, root));
        reject(`${i}/${n} as size ${n + 1}`, verifyInclusion(i, n + 1, leaf, proof, roots[n + 1]!));
        if (n > i + 1) reject(`${i}/${n} as size ${n - 1}`, verifyInclusion(i, n - 1, leaf, proof, roots[n - 1]!));
        if (proof.length > 0) reject(`${i}/${n} truncated`, verifyInclusion(i, n, leaf, proof.slice(0, -1), root));
        reject(`${i}/${n} extended`, verifyInclusion(i, n, leaf, [...proof, root], root));
      }
    }
    expect(accepted).toEqual([]);
    expect(tried).toBeGreaterThan(100_000);
  });

  it('a size is bound to a root by the signed tree head, not by the path: a known RFC property', () => {
    // Leaf 0 of 3 and of 4 take the same turns (right, right), so the size-3 path and root also pass
    // with a claimed size of 4. Which is why checkpoints sign (size, root) together.
    const proof = tree.inclusionProof(0, 3);
    expect(verifyInclusion(0, 4, leaves[0]!, proof, roots[3]!)).toBe(true);
    expect(verifyInclusion(0, 4, leaves[0]!, proof, roots[4]!)).toBe(false);
    // When the claimed size needs a longer path, the algorithm's own sn check catches it.
    expect(verifyInclusion(0, 9, leaves[0]!, tree.inclusionProof(0, 8), roots[8]!)).toBe(false);
  });

  it('a flipped bit in a proof element or either root, or wrong sizes, fail consistency (n ≤ 100, every m)', () => {
    const accepted: string[] = [];
    let tried = 0;
    const reject = (what: string, ok: boolean) => {
      tried++;
      if (ok) accepted.push(what);
    };
    for (let n = 1; n <= 100; n++) {
      for (let m = 1; m < n; m++) {
        const proof = tree.consistencyProof(m, n);
        const [rm, rn] = [roots[m]!, roots[n]!];
        proof.forEach((p, k) => {
          const bad = proof.map((q, j) => (j === k ? flipBit(p, 77) : q));
          reject(`${m}->${n} element ${k}`, verifyConsistency(m, n, rm, rn, bad));
        });
        reject(`${m}->${n} old root`, verifyConsistency(m, n, flipBit(rm, 3), rn, proof));
        reject(`${m}->${n} new root`, verifyConsistency(m, n, rm, flipBit(rn, 250), proof));
        reject(`${m}->${n} as ${m}->${n + 1}`, verifyConsistency(m, n + 1, rm, roots[n + 1]!, proof));
        if (m > 1) reject(`${m}->${n} as ${m - 1}->${n}`, verifyConsistency(m - 1, n, roots[m - 1]!, rn, proof));
        reject(`${m}->${n} empty proof`, verifyConsistency(m, n, rm, rn, []));
        reject(`${m}->${n} reversed`, verifyConsistency(n, m, rn, rm, proof));
      }
    }
    expect(accepted).toEqual([]);
    expect(tried).toBeGreaterThan(30_000);
  });

  it('edges: m = 0 needs the empty root, m = n needs equal roots, both with an empty proof', () => {
    expect(verifyConsistency(0, 10, emptyRoot(), roots[10]!, [])).toBe(true);
    expect(verifyConsistency(0, 10, roots[1]!, roots[10]!, [])).toBe(false);
    expect(verifyConsistency(0, 10, emptyRoot(), roots[10]!, [roots[1]!])).toBe(false);
    expect(verifyConsistency(10, 10, roots[10]!, roots[10]!, [])).toBe(true);
    expect(verifyConsistency(10, 10, roots[10]!, roots[9]!, [])).toBe(false);
    expect(verifyConsistency(10, 10, roots[10]!, roots[10]!, [roots[10]!])).toBe(false);
  });

  it('malformed input is rejected without throwing; bad arguments to proof generation throw RangeError', () => {
    const proof = tree.inclusionProof(3, 10);
    expect(verifyInclusion(10, 10, leaves[3]!, proof, roots[10]!)).toBe(false);
    expect(verifyInclusion(-1, 10, leaves[3]!, proof, roots[10]!)).toBe(false);
    expect(verifyInclusion(3.5, 10, leaves[3]!, proof, roots[10]!)).toBe(false);
    expect(verifyInclusion(3, 10, leaves[3]!, [...proof.slice(0, -1), proof.at(-1)!.subarray(1)], roots[10]!)).toBe(false);
    expect(verifyInclusion(3, 10, leaves[3]!.subarray(0, 31), proof, roots[10]!)).toBe(false);
    expect(() => inclusionProof(leaves, 10, 10)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, MAX + 1)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves.slice(0, 4), 2, 5)).toThrow(RangeError);
  });
});

describe('streaming compact range', () => {
  it('root equals the reference root at every size 0..1000', () => {
    const range = new CompactRange();
    const hashes: Buffer[] = [];
    expect(range.root()).toEqual(rootFromLeafHashes([]));
    for (let n = 1; n <= 1000; n++) {
      const data = leafData(n * 13);
      range.appendLeaf(data);
      hashes.push(leafHash(data));
      expect(range.size).toBe(n);
      if (!range.root().equals(rootFromLeafHashes(hashes))) throw new Error(`root differs at size ${n}`);
    }
  });

  it('keeps one hash per set bit of the size, and resumes from its frontier', () => {
    const range = new CompactRange();
    const tree = new MerkleTree();
    for (let i = 0; i < 1000; i++) {
      range.appendLeaf(leafData(i));
      tree.appendLeaf(leafData(i));
    }
    expect(range.frontier()).toHaveLength(6); // 1000 = 0b1111101000
    expect(range.frontier()[0]).toEqual(tree.root(512)); // the largest perfect subtree comes first
    const resumed = CompactRange.fromFrontier(range.size, range.frontier());
    for (let i = 1000; i < 1234; i++) {
      resumed.appendLeaf(leafData(i));
      tree.appendLeaf(leafData(i));
    }
    expect(resumed.root()).toEqual(tree.root());
    expect(() => CompactRange.fromFrontier(1000, range.frontier().slice(1))).toThrow(RangeError);
  });

  it('hands out copies: mutating a returned root or an appended hash does not change the tree', () => {
    const range = new CompactRange();
    const h = leafHash(Buffer.from('x'));
    range.appendLeafHash(h);
    h.fill(0);
    const root = range.root();
    root.fill(0);
    expect(range.root()).toEqual(sha256([0x00], Buffer.from('x')));
  });

  it('streamRoot folds an async stream', async () => {
    async function* events() {
      for (let i = 0; i < 77; i++) yield leafData(i);
    }
    const { treeSize, rootHash } = await streamRoot(events());
    expect(treeSize).toBe(77);
    expect(rootHash).toEqual(rootFromLeafHashes(Array.from({ length: 77 }, (_, i) => leafHash(leafData(i)))));
  });
});
