import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FULL_TILE_BYTES,
  MerkleTree,
  TILE_WIDTH,
  decodeEntryBundle,
  encodeEntryBundle,
  formatTileIndex,
  formatTilePath,
  parseTilePath,
  partialTiles,
  tileTreeSizes,
  tileWidthAt,
  tilesOf,
  treeHasTile,
  type TileRef,
} from '../src/index.ts';

// Independent RFC 6962 hashing (createHash, the recursive definition), not the code under test.
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafOf = (i: number): Buffer => Buffer.from(`leaf ${i}`);
const lh = (d: Uint8Array) => sha(Buffer.of(0), d);
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('tile paths (C2SP tlog-tiles)', () => {
  it("encodes N in x-prefixed 3-digit groups: the spec's example and edges", () => {
    expect(formatTileIndex(1234067)).toBe('x001/x234/067');
    expect(formatTileIndex(0)).toBe('000');
    expect(formatTileIndex(5)).toBe('005');
    expect(formatTileIndex(999)).toBe('999');
    expect(formatTileIndex(1000)).toBe('x001/000');
    expect(formatTileIndex(273)).toBe('273');
    expect(() => formatTileIndex(-1)).toThrow(RangeError);
    expect(() => formatTileIndex(1.5)).toThrow(RangeError);
  });

  it('formats and parses tile and entry-bundle paths, full and partial', () => {
    const cases: Array<[TileRef, string]> = [
      [{ level: 0, index: 1234067, width: 256 }, 'tile/0/x001/x234/067'],
      [{ level: 0, index: 273, width: 112 }, 'tile/0/273.p/112'],
      [{ level: 1, index: 1, width: 17 }, 'tile/1/001.p/17'],
      [{ level: 2, index: 0, width: 1 }, 'tile/2/000.p/1'],
      [{ level: 63, index: 0, width: 255 }, 'tile/63/000.p/255'],
      [{ level: 'entries', index: 1234067, width: 256 }, 'tile/entries/x001/x234/067'],
      [{ level: 'entries', index: 1, width: 44 }, 'tile/entries/001.p/44'],
    ];
    for (const [tile, path] of cases) {
      expect(formatTilePath(tile)).toBe(path);
      expect(parseTilePath(path)).toEqual(tile);
    }
  });

  it('accepts only the canonical form', () => {
    for (const bad of [
      'tile/0/1', // not 3 digits
      'tile/0/0001',
      'tile/0/x000/001', // needless leading group
      'tile/0/001/002', // inner group without x
      'tile/0/x001', // last group with x
      'tile/00/000', // level with a leading zero
      'tile/64/000', // level above 63
      'tile/-1/000',
      'tile/0/000.p/0', // empty tile
      'tile/0/000.p/256', // a full tile is never .p
      'tile/0/000.p/300',
      'tile/0/000.p/017', // width with leading zero
      'tile/0/000.p/',
      'tile/0/000.p',
      '/tile/0/000',
      'tile/0/000/',
      'tile/8/0/000', // Go's sumdb form (with the height) is not C2SP's
      'tile/data/000',
      'tile/entries/000.p/0',
      'tile/0/x009/x007/x199/x254/x740/x992/000', // beyond 2^53 − 1
    ]) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });
});

describe('which tiles a tree has', () => {
  it("a tree of 70,000: 273 full level-0 tiles, a partial of 112, one full level-1 tile, a partial of 17, a level-2 partial of 1 (the spec's example)", () => {
    const all = [...tilesOf(70_000)];
    expect(all.filter((t) => t.level === 0 && t.width === 256)).toHaveLength(273);
    expect(all.filter((t) => t.width < 256)).toEqual([
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]);
    expect(all.filter((t) => t.level === 1 && t.width === 256)).toEqual([{ level: 1, index: 0, width: 256 }]);
    expect(all).toHaveLength(273 + 1 + 1 + 1 + 1);
    expect(partialTiles(70_000)).toEqual(all.filter((t) => t.width < 256));
  });

  it("a tree of 256: one full level-0 tile and a level-1 partial of width 1 (the spec's example)", () => {
    expect([...tilesOf(256)]).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
  });

  it('edge sizes 0, 1, 255, 257, 65,536', () => {
    expect([...tilesOf(0)]).toEqual([]);
    expect([...tilesOf(1)]).toEqual([{ level: 0, index: 0, width: 1 }]);
    expect([...tilesOf(255)]).toEqual([{ level: 0, index: 0, width: 255 }]);
    expect([...tilesOf(257)]).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 1, width: 1 },
      { level: 1, index: 0, width: 1 },
    ]);
    const big = [...tilesOf(65_536)];
    expect(big.filter((t) => t.level === 0)).toHaveLength(256);
    expect(big.filter((t) => t.level === 1)).toEqual([{ level: 1, index: 0, width: 256 }]);
    expect(big.filter((t) => t.level === 2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(big).toHaveLength(258);
    expect(partialTiles(65_536)).toEqual([{ level: 2, index: 0, width: 1 }]);
  });

  it('widths and existence in a tree of a given size', () => {
    expect(tileWidthAt(0, 0, 300)).toBe(256);
    expect(tileWidthAt(0, 1, 300)).toBe(44);
    expect(tileWidthAt(0, 2, 300)).toBe(0);
    expect(tileWidthAt(1, 0, 300)).toBe(1);
    expect(tileWidthAt('entries', 1, 300)).toBe(44);
    expect(treeHasTile({ level: 0, index: 1, width: 44 }, 300)).toBe(true);
    expect(treeHasTile({ level: 0, index: 1, width: 43 }, 300)).toBe(false); // a width no size-300 tree has
    expect(treeHasTile({ level: 0, index: 1, width: 256 }, 300)).toBe(false); // not full yet
    expect(treeHasTile({ level: 0, index: 0, width: 256 }, 300)).toBe(true);
    expect(treeHasTile({ level: 0, index: 0, width: 255 }, 300)).toBe(false); // full here: its partials belong to smaller trees
    expect(treeHasTile({ level: 1, index: 0, width: 1 }, 300)).toBe(true);
    expect(treeHasTile({ level: 2, index: 0, width: 1 }, 300)).toBe(false);
  });

  it('the tree sizes that have a partial tile', () => {
    expect(tileTreeSizes({ level: 0, index: 1, width: 44 })).toEqual({ from: 300, to: 301 });
    expect(tileTreeSizes({ level: 1, index: 0, width: 1 })).toEqual({ from: 256, to: 512 });
    expect(tileTreeSizes({ level: 1, index: 1, width: 17 })).toEqual({ from: 70_000 - 112, to: 70_000 - 112 + 256 });
    expect(tileTreeSizes({ level: 0, index: 0, width: 256 })).toEqual({ from: 256, to: Infinity });
    for (const size of [1, 255, 256, 257, 300, 511, 512, 70_000]) {
      for (const t of partialTiles(size)) {
        const { from, to } = tileTreeSizes(t);
        expect(size >= from && size < to, `${size} in ${JSON.stringify(t)}`).toBe(true);
        expect(treeHasTile(t, from) && treeHasTile(t, to - 1) && !treeHasTile(t, from - 1) && !treeHasTile(t, to)).toBe(true);
      }
    }
  });
});

describe('tile hashes out of the MerkleTree', () => {
  const n = 600;
  const data = Array.from({ length: n }, (_, i) => leafOf(i));
  const leaves = data.map(lh);
  const tree = MerkleTree.fromLeafHashes(leaves);

  it('level 0: the leaf hashes; level 1: MTH of each full level-0 tile (recomputed from the leaves)', () => {
    const t0 = tree.hashes(0, 0, 256);
    expect(t0.length).toBe(FULL_TILE_BYTES);
    expect(t0).toEqual(Buffer.concat(leaves.slice(0, 256)));
    expect(tree.hashes(0, 512, 88)).toEqual(Buffer.concat(leaves.slice(512, 600)));
    const level1 = tree.hashes(8, 0, 2);
    expect(level1).toEqual(Buffer.concat([mth(leaves.slice(0, 256)), mth(leaves.slice(256, 512))]));
    // The spec's formula, i = 0: MTH(D[0 : 256]).
    expect(level1.subarray(0, 32)).toEqual(mth(leaves.slice(0, TILE_WIDTH)));
  });

  it('refuses hashes the tree does not have', () => {
    expect(() => tree.hashes(0, 512, 89)).toThrow(RangeError);
    expect(() => tree.hashes(8, 0, 3)).toThrow(RangeError);
    expect(() => tree.hashes(16, 0, 1)).toThrow(RangeError);
    expect(tree.hashes(16, 0, 0)).toEqual(Buffer.alloc(0));
    expect(() => new MerkleTree().hashes(0, 0, 1)).toThrow(RangeError);
  });
});

describe('entry bundles', () => {
  it('each entry a big-endian uint16 length, then its bytes; round trip', () => {
    const entries = [Buffer.from('ab'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.alloc(65_535, 1)];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.subarray(0, 4)).toEqual(Buffer.from([0, 2, 0x61, 0x62]));
    expect(bundle.subarray(4, 6)).toEqual(Buffer.from([0, 0]));
    expect(bundle.subarray(6, 8)).toEqual(Buffer.from([0x01, 0x2c]));
    expect(bundle.length).toBe(2 * 4 + 2 + 300 + 65_535);
    expect(decodeEntryBundle(bundle)).toEqual(entries);
  });

  it('refuses an entry over 65,535 bytes, and a truncated bundle', () => {
    expect(() => encodeEntryBundle([Buffer.alloc(65_536)])).toThrow(/at most 65535 bytes/);
    expect(() => decodeEntryBundle(Buffer.from([0, 3, 1, 2]))).toThrow(/truncated/);
    expect(() => decodeEntryBundle(Buffer.from([0]))).toThrow(/truncated/);
  });
});
