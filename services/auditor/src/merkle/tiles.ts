/**
 * C2SP tlog-tiles arithmetic (https://c2sp.org/tlog-tiles): pure, no I/O.
 *
 * A tile is 256 consecutive Merkle Tree Hashes at one tree height. The tile at *level* L, *index* N holds
 *
 *   MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L])   for i = 0 … W−1
 *
 * i.e. the perfect, aligned subtree hashes of 2^(8L) leaves: tree level 8·L, indexes 256·N … 256·N+W−1
 * (what `MerkleTree` keeps). A full tile has W = 256 (8,192 bytes); the rightmost tile of a level may be
 * *partial* (1 ≤ W ≤ 255): for a tree of size s, level L's partial tile has floor(s / 256^L) mod 256
 * hashes. Empty tiles do not exist.
 *
 * Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`; L is 0–63 and W is 1–255, decimal with
 * no leading zeros; N is written in zero-padded 3-digit groups, all but the last prefixed with `x`
 * (1234067 → `x001/x234/067`). Only the canonical form is accepted (no `x000/` in front).
 *
 * Sizes and indexes are JS numbers (exact up to 2^53 − 1); 256^L is a power of two, so the divisions
 * below are exact.
 */

/** Hashes per full tile (2^8: tile height 8, as C2SP fixes it). */
export const TILE_WIDTH = 256;
/** Tree levels per tile level: a level-L tile holds hashes at tree level 8·L. */
export const TILE_HEIGHT = 8;
/** Bytes of a full tile: 256 × 32. */
export const FULL_TILE_BYTES = TILE_WIDTH * 32;
/** Levels 0 … 63. */
export const MAX_TILE_LEVEL = 63;
/** An entry in a bundle carries a big-endian uint16 length: no entry may be larger. */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

/** A tile of hashes (`level` ≥ 0) or an entry bundle (`level` = 'entries'); `width` 256 means full. */
export interface TileRef {
  readonly level: number | 'entries';
  readonly index: number;
  readonly width: number;
}

const leavesPer = (level: number): number => 256 ** level;

/** N in C2SP's path form: `x001/x234/067`. */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`a tile index is a non-negative safe integer, got ${index}`);
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The path of a tile or bundle, without a leading slash: `tile/1/x001/234.p/17`, `tile/entries/000`. */
export function formatTilePath(tile: TileRef): string {
  const { level, index, width } = tile;
  if (level !== 'entries' && (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL)) throw new RangeError(`a tile level is 0–${MAX_TILE_LEVEL}, got ${level}`);
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new RangeError(`a tile width is 1–${TILE_WIDTH}, got ${width}`);
  return `tile/${level}/${formatTileIndex(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

const PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading slash). Undefined for anything
 * that is not exactly the canonical form: a level above 63 or with a leading zero, a width of 0, above
 * 255 or with a leading zero, an index with a needless leading `x000/` group or beyond 2^53 − 1.
 */
export function parseTilePath(path: string): TileRef | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > MAX_TILE_LEVEL) return undefined;
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH) return undefined;
  const index = Number(m[2]!.replaceAll('x', '').replaceAll('/', ''));
  if (!Number.isSafeInteger(index) || formatTileIndex(index) !== m[2]) return undefined;
  return { level, index, width };
}

/**
 * How many hashes tile (level, index) holds in a tree of `treeSize` leaves: 256 (full), 1–255 (the
 * level's partial tile), 0 (no such tile yet). Entry bundles count as level 0.
 */
export function tileWidthAt(level: number | 'entries', index: number, treeSize: number): number {
  const hashes = Math.floor(treeSize / leavesPer(level === 'entries' ? 0 : level));
  const start = index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, hashes - start));
}

/** Whether a tree of `treeSize` leaves has exactly this tile: full, or the partial of exactly this width. */
export function treeHasTile(tile: TileRef, treeSize: number): boolean {
  const w = tileWidthAt(tile.level, tile.index, treeSize);
  return w === TILE_WIDTH ? tile.width === TILE_WIDTH : w > 0 && tile.width === w;
}

/**
 * The tree sizes whose tree has this partial tile: [from, to) (to exclusive). A log must serve a
 * partial tile for each size it signed a checkpoint of; for a full tile this is [end index, ∞).
 */
export function tileTreeSizes(tile: TileRef): { readonly from: number; readonly to: number } {
  const per = leavesPer(tile.level === 'entries' ? 0 : tile.level);
  const from = (tile.index * TILE_WIDTH + tile.width) * per;
  return { from, to: tile.width === TILE_WIDTH ? Infinity : from + per };
}

/** The partial tiles of a tree of `treeSize` (at most one per level, lowest level first). */
export function partialTiles(treeSize: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; leavesPer(level) <= treeSize; level++) {
    const hashes = Math.floor(treeSize / leavesPer(level));
    const width = hashes % TILE_WIDTH;
    if (width > 0) out.push({ level, index: Math.floor(hashes / TILE_WIDTH), width });
  }
  return out;
}

/** Every tile of a tree of `treeSize` (full and partial), level by level, in index order. */
export function* tilesOf(treeSize: number): Generator<TileRef> {
  for (let level = 0; leavesPer(level) <= treeSize; level++) {
    const hashes = Math.floor(treeSize / leavesPer(level));
    const full = Math.floor(hashes / TILE_WIDTH);
    for (let index = 0; index < full; index++) yield { level, index, width: TILE_WIDTH };
    if (hashes % TILE_WIDTH > 0) yield { level, index: full, width: hashes % TILE_WIDTH };
  }
}

/** Where a tile's hashes are in the tree: `count` stored subtree hashes at tree level `treeLevel` from index `from`. */
export function tileHashRange(tile: TileRef): { readonly treeLevel: number; readonly from: number; readonly count: number } {
  const level = tile.level === 'entries' ? 0 : tile.level;
  return { treeLevel: TILE_HEIGHT * level, from: tile.index * TILE_WIDTH, count: tile.width };
}

/** The leaves an entry bundle holds: [from, from + count). */
export function bundleLeafRange(tile: TileRef): { readonly from: number; readonly count: number } {
  return { from: tile.index * TILE_WIDTH, count: tile.width };
}

/** Encodes entries as a C2SP entry bundle: each a big-endian uint16 length, then its bytes. Refuses an entry over 65,535 bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const [i, e] of entries.entries()) {
    if (e.length > MAX_BUNDLE_ENTRY_BYTES) throw new RangeError(`entry ${i} has ${e.length} bytes: an entry bundle holds entries of at most ${MAX_BUNDLE_ENTRY_BYTES} bytes`);
    total += 2 + e.length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of entries) {
    at = out.writeUInt16BE(e.length, at);
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/** Decodes a C2SP entry bundle into its entries (views into `bundle`); throws on a truncated one. */
export function decodeEntryBundle(bundle: Uint8Array): Buffer[] {
  const buf = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) throw new RangeError(`entry bundle truncated at byte ${at}`);
    const n = buf.readUInt16BE(at);
    if (at + 2 + n > buf.length) throw new RangeError(`entry bundle truncated: entry ${out.length} needs ${n} bytes`);
    out.push(buf.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}
