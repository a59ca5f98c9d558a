/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the same checksum as zlib's crc32 and
 * `zlib.crc32` in newer Node versions (not available in Node 20). Table-driven, one byte at a time.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data[start, end)`, continuing from `previous` (0 for a fresh checksum). */
export function crc32(data: Uint8Array, previous = 0, start = 0, end = data.length): number {
  let c = ~previous >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
