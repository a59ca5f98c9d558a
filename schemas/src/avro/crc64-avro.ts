/**
 * CRC-64-AVRO, the Rabin fingerprint the Avro spec defines for schema fingerprints
 * ("Schema Fingerprints": EMPTY = 0xc15d213aa4d7a795, reflected table). Single-object encoding
 * writes it little-endian after the 0xC3 0x01 marker.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    table.push(fp & MASK);
  }
  return table;
})();

/** The 64-bit fingerprint as an unsigned bigint. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)]!;
  return fp;
}

/** The fingerprint as Java's Avro prints it: a signed 64-bit integer. */
export function crc64AvroSigned(bytes: Uint8Array): bigint {
  return BigInt.asIntN(64, crc64Avro(bytes));
}

/** The 8 bytes that follow the single-object marker: the fingerprint, little-endian. */
export function fingerprintBytes(fp: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out;
}

/**
 * The fingerprint as text, everywhere Sporbar writes it (the `sporbar-fingerprint` Kafka header, the
 * event store's `metadata.fingerprint`, the export's `sporbar.writerSchemas` keys, messages): the hex
 * of the 8 bytes the single-object encoding carries, little-endian, so it reads exactly as bytes 2..9
 * of the stored event in a hex dump. Not `fp.toString(16)`, the big-endian number.
 */
export function fingerprintHex(fp: bigint): string {
  return fingerprintBytes(fp).toString('hex');
}
