/**
 * A faster encoder for kafkajs' Produce requests (v3–v7: record batch v2), used for this
 * transport's own messages only, and a fast key partitioner equal to kafkajs' DefaultPartitioner.
 *
 * Why: kafkajs 2.2.4 (its last release) encodes every record through several small growable
 * Encoder objects (one per record and one per header, each starting as a zero-filled 512-byte
 * buffer that is copied as it grows), and computes murmur2 with 64-bit Long objects. For events of a
 * few hundred bytes that costs more CPU than the SDK itself and caps a producer at ~20,000
 * messages/s. Here each partition's record batch is written into one buffer of exactly the right
 * size, and murmur2 is 32-bit integer arithmetic (Math.imul), as in the Java client.
 *
 * How it is wired: kafkajs looks its Produce request module up on every request
 * (`require('./vN/request')` inside protocol/requests/produce/index.js), so replacing those
 * modules' exports is enough. The replacement takes the fast path only when every message of the
 * request was made by fastMessage(); any other request (another kafkajs user in the same process)
 * goes to kafkajs' own encoder, untouched. The bytes are exactly those kafkajs would send (a unit
 * test compares them), so producer id, epoch, sequence numbers, retries and the broker's duplicate
 * detection behave as before: only the encoding is cheaper. It installs only on kafkajs 2.2.4 with
 * the expected module layout; anywhere else kafkajs' own encoder is used (slower, same result).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';

const require = createRequire(import.meta.url);
// Not a named export Node's ESM loader detects in kafkajs' CommonJS: taken with require.
const { CompressionCodecs } = require('kafkajs') as typeof import('kafkajs');

/**
 * FAST marks a message as made by fastMessage() (only such requests take the fast path); PATCHED
 * marks kafkajs' patched request factories. Registered symbols, so that a second copy of this module
 * (another workspace's node_modules) recognises both.
 */
const FAST: unique symbol = Symbol.for('sporbar.kafka.fastMessage');
const PATCHED = Symbol.for('sporbar.kafka.fastProduce');

/** A kafkajs message with a string key, string headers and a millisecond timestamp (as kafkajs wants it, a string). */
export interface FastMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
  readonly [FAST]: true;
}

export function fastMessage(key: string, value: Buffer, headers: Readonly<Record<string, string>>, timestampMs: number): FastMessage {
  return { key, value, headers, timestamp: String(Math.trunc(timestampMs)), [FAST]: true };
}

// ---- CRC-32C (Castagnoli), slice-by-8: the record batch v2 checksum ----

const CRC = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** CRC-32C of `data[start, end)`, as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const t = CRC;
  let c = -1;
  let i = start;
  // Bytewise up to a 4-byte boundary, then 8 bytes per step read as two aligned 32-bit words.
  while (i < end && (data.byteOffset + i) % 4 !== 0) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  if (LITTLE_ENDIAN && end - i >= 8) {
    const words = new Int32Array(data.buffer, data.byteOffset + i, (end - i) >>> 2);
    const steps = words.length >>> 1;
    for (let w = 0; w < steps * 2; w += 2) {
      const a = c ^ words[w]!;
      const b = words[w + 1]!;
      c =
        t[1792 + (a & 0xff)]! ^
        t[1536 + ((a >>> 8) & 0xff)]! ^
        t[1280 + ((a >>> 16) & 0xff)]! ^
        t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^
        t[512 + ((b >>> 8) & 0xff)]! ^
        t[256 + ((b >>> 16) & 0xff)]! ^
        t[b >>> 24]!;
    }
    i += steps * 8;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- murmur2 (the Java client's Utils.murmur2) and the key partitioner ----

const asciiScratch = new Uint8Array(256);

/** murmur2 of a string's UTF-8 bytes, as a signed 32-bit number (the Java client's Utils.murmur2). */
export function murmur2(key: string): number {
  let data: Uint8Array = asciiScratch;
  let length = key.length;
  if (length > asciiScratch.length) data = Buffer.from(key, 'utf8');
  else {
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) {
        data = Buffer.from(key, 'utf8');
        break;
      }
      asciiScratch[i] = c;
    }
  }
  if (data !== asciiScratch) length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2]! << 16;
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8;
    // falls through
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * kafkajs' DefaultPartitioner (murmur2 of the key, as the Java client), with 32-bit murmur2. A
 * message with an explicit partition or without a key goes to kafkajs' own partitioner.
 */
export const FastKeyPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs) => {
    const { key, partition } = args.message;
    if (typeof key === 'string' && (partition === undefined || partition === null)) return (murmur2(key) & 0x7fffffff) % args.partitionMetadata.length;
    return fallback(args);
  };
};

// ---- the Produce request body (v3–v7), byte for byte as kafkajs writes it ----

interface Long {
  toString(): string;
}
interface PartitionData {
  readonly partition: number;
  readonly firstSequence?: number;
  readonly messages: readonly unknown[];
}
interface TopicData {
  readonly topic: string;
  readonly partitions: readonly PartitionData[];
}
interface ProduceArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: Long | string | number;
  readonly producerEpoch?: number;
  readonly compression?: number;
  readonly topicData: readonly TopicData[];
}
/** What kafkajs' request framing reads of an encoded body (the shape of its Encoder). */
interface EncodedBody {
  readonly buf: Buffer;
  readonly buffer: Buffer;
  readonly offset: number;
  size(): number;
}
type RequestFactory = (args: ProduceArgs) => { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<unknown> };

function isFast(topicData: readonly TopicData[] | undefined): boolean {
  if (!Array.isArray(topicData) || topicData.length === 0) return false;
  for (const t of topicData) {
    if (!Array.isArray(t.partitions) || t.partitions.length === 0) return false;
    for (const p of t.partitions) {
      if (!Array.isArray(p.messages) || p.messages.length === 0) return false;
      for (const m of p.messages) if ((m as Partial<FastMessage> | null)?.[FAST] !== true) return false;
    }
  }
  return true;
}

/** Size of an unsigned varint. */
function uvarintSize(u: number): number {
  let s = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    s++;
  }
  return s;
}
function writeUvarint(buf: Buffer, o: number, u: number): number {
  while (u >= 128) {
    buf[o++] = (u % 128) | 128;
    u = Math.floor(u / 128);
  }
  buf[o++] = u;
  return o;
}
/** Zigzag of a safe integer (Kafka's varint/varlong are zigzag encoded). */
const zigzag = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1);

/** UTF-8 length of a string; equals s.length exactly when it is all ASCII (short strings: a JS loop beats a native call). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}
/** Writes `s` (of UTF-8 length `len`) at `o`; returns the offset after it. */
function writeString(buf: Buffer, o: number, s: string, len: number): number {
  if (len !== s.length) return o + buf.write(s, o, len, 'utf8');
  for (let i = 0; i < len; i++) buf[o + i] = s.charCodeAt(i);
  return o + len;
}
const stringFieldSize = (len: number) => uvarintSize(len * 2) + len; // zigzag(n) = 2n for n ≥ 0

/** Per-request scratch: the UTF-8 lengths found in the sizing pass, read again in the writing pass. */
let lengths = new Int32Array(4096);

/**
 * The records of one partition (uncompressed), after `offset` bytes left free for the batch header.
 * Record: varint length | int8 attributes | varlong timestampDelta | varint offsetDelta | varint key | varint value | varint header count (varint key, varint value)*.
 * Two passes: sizes first (the record length prefix and the buffer need them), then the bytes.
 */
function encodeRecords(messages: readonly FastMessage[], timestamps: Float64Array, firstTimestamp: number, offset: number): Buffer {
  const n = messages.length;
  let total = offset;
  let l = 0; // index into lengths: per message the body size, the key length, the header count, then per header its name and value lengths
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const h = m.headers;
    const names = Object.keys(h);
    if (lengths.length < l + 3 + 2 * names.length) {
      const bigger = new Int32Array(Math.max(lengths.length * 2, l + 3 + 2 * names.length));
      bigger.set(lengths);
      lengths = bigger;
    }
    const keyLen = utf8Length(m.key);
    let body = 1 + uvarintSize(zigzag(timestamps[i]! - firstTimestamp)) + uvarintSize(i * 2) + stringFieldSize(keyLen) + stringFieldSize(m.value.length) + uvarintSize(names.length * 2);
    const at = l;
    lengths[l + 1] = keyLen;
    lengths[l + 2] = names.length;
    l += 3;
    for (const k of names) {
      const kl = utf8Length(k);
      const vl = utf8Length(h[k]!);
      lengths[l++] = kl;
      lengths[l++] = vl;
      body += stringFieldSize(kl) + stringFieldSize(vl);
    }
    lengths[at] = body;
    total += uvarintSize(body * 2) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  let o = offset;
  l = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const h = m.headers;
    o = writeUvarint(buf, o, lengths[l]! * 2);
    buf[o++] = 0; // attributes
    o = writeUvarint(buf, o, zigzag(timestamps[i]! - firstTimestamp));
    o = writeUvarint(buf, o, i * 2);
    const keyLen = lengths[l + 1]!;
    o = writeString(buf, writeUvarint(buf, o, keyLen * 2), m.key, keyLen);
    o = writeUvarint(buf, o, m.value.length * 2);
    buf.set(m.value, o);
    o += m.value.length;
    const count = lengths[l + 2]!;
    l += 3;
    o = writeUvarint(buf, o, count * 2);
    const names = Object.keys(h);
    // Internal invariant (plain Error on purpose): thrown inside kafkajs' send, which the transport catches (it spools and retries); never reaches a caller.
    if (names.length !== count) throw new Error('fast produce encoder: headers changed while encoding');
    for (const k of names) {
      const kl = lengths[l++]!;
      o = writeString(buf, writeUvarint(buf, o, kl * 2), k, kl);
      const vl = lengths[l++]!;
      o = writeString(buf, writeUvarint(buf, o, vl * 2), h[k]!, vl);
    }
  }
  // Internal invariant (plain Error on purpose): thrown inside kafkajs' send, which the transport catches (it spools and retries); never reaches a caller.
  if (o !== total) throw new Error(`fast produce encoder: wrote ${o} of ${total} bytes`);
  return buf;
}

/** partition int32 | size int32 | record batch (firstOffset int64 | length int32 | epoch int32 | magic int8 | crc uint32 | attributes ... records). */
const PARTITION_HEAD = 8;
const BATCH_HEAD = 61; // firstOffset through the record count
async function encodePartition(p: PartitionData, args: ProduceArgs): Promise<Buffer> {
  const messages = p.messages as readonly FastMessage[];
  // As kafkajs: the first and the last of the timestamp strings in sort order; deltas from the first.
  // Strings of one length (13 digits until the year 2286) sort as their numbers do.
  const timestamps = new Float64Array(messages.length);
  let first = messages[0]!.timestamp;
  let max = first;
  let sameLength = true;
  for (let i = 0; i < messages.length; i++) {
    const t = messages[i]!.timestamp;
    timestamps[i] = Number(t);
    if (t.length !== first.length) sameLength = false;
  }
  if (sameLength) {
    let lo = 0;
    let hi = 0;
    for (let i = 1; i < timestamps.length; i++) {
      if (timestamps[i]! < timestamps[lo]!) lo = i;
      if (timestamps[i]! > timestamps[hi]!) hi = i;
    }
    first = messages[lo]!.timestamp;
    max = messages[hi]!.timestamp;
  } else {
    for (const m of messages) {
      if (m.timestamp < first) first = m.timestamp;
      if (m.timestamp > max) max = m.timestamp;
    }
  }
  const compression = (args.compression ?? 0) & 0x07;
  const head = PARTITION_HEAD + BATCH_HEAD;
  let out: Buffer;
  if (compression === 0) {
    out = encodeRecords(messages, timestamps, Number(first), head);
  } else {
    const records = encodeRecords(messages, timestamps, Number(first), 0);
    const codec = (CompressionCodecs as unknown as Record<number, () => { compress(encoder: EncodedBody): Promise<Buffer> }>)[compression];
    // Internal invariant (plain Error on purpose): thrown inside kafkajs' send, which the transport catches (it spools and retries); never reaches a caller.
    if (!codec) throw new Error(`fast produce encoder: no codec for compression ${compression}`);
    const compressed = await codec().compress(asEncoded(records));
    out = Buffer.allocUnsafe(head + compressed.length);
    compressed.copy(out, head);
  }
  const batchLength = out.length - PARTITION_HEAD - 12; // from the partition leader epoch on
  let o = out.writeInt32BE(p.partition, 0);
  o = out.writeInt32BE(out.length - PARTITION_HEAD, o);
  o = out.writeBigInt64BE(0n, o); // firstOffset
  o = out.writeInt32BE(batchLength, o);
  o = out.writeInt32BE(0, o); // partition leader epoch
  o = out.writeInt8(2, o); // magic
  const crcAt = o;
  o += 4;
  o = out.writeInt16BE(compression | (args.transactionalId ? 16 : 0), o);
  o = out.writeInt32BE(messages.length - 1, o); // lastOffsetDelta
  o = out.writeBigInt64BE(BigInt(first), o);
  o = out.writeBigInt64BE(BigInt(max), o);
  o = out.writeBigInt64BE(BigInt(String(args.producerId ?? -1)), o);
  o = out.writeInt16BE(args.producerEpoch ?? 0, o);
  o = out.writeInt32BE(p.firstSequence ?? 0, o);
  o = out.writeInt32BE(messages.length, o);
  // Internal invariant (plain Error on purpose): thrown inside kafkajs' send, which the transport catches (it spools and retries); never reaches a caller.
  if (o !== head) throw new Error('fast produce encoder: batch header size');
  out.writeUInt32BE(crc32c(out, crcAt + 4), crcAt);
  return out;
}

function asEncoded(buf: Buffer): EncodedBody {
  return { buf, buffer: buf, offset: buf.length, size: () => buf.length };
}

function stringBytes(s: string | null | undefined): Buffer {
  if (s === null || s === undefined) return Buffer.from([0xff, 0xff]);
  const b = Buffer.allocUnsafe(2 + Buffer.byteLength(s));
  b.writeInt16BE(b.length - 2, 0);
  b.write(s, 2, 'utf8');
  return b;
}

/** Encodes the Produce request body: transactional_id, acks, timeout, [topic [partition record_set]]. */
export async function encodeProduceBody(args: ProduceArgs): Promise<Buffer> {
  const parts: Buffer[] = [];
  const head = stringBytes(args.transactionalId ?? null);
  const fixed = Buffer.allocUnsafe(10);
  fixed.writeInt16BE(args.acks, 0);
  fixed.writeInt32BE(args.timeout, 2);
  fixed.writeInt32BE(args.topicData.length, 6);
  parts.push(head, fixed);
  for (const t of args.topicData) {
    const count = Buffer.allocUnsafe(4);
    count.writeInt32BE(t.partitions.length, 0);
    parts.push(stringBytes(t.topic), count);
    for (const p of t.partitions) parts.push(await encodePartition(p, args));
  }
  return Buffer.concat(parts);
}

// ---- installing it into kafkajs ----

const FIRST_VERSION = 3;
const LAST_VERSION = 7;
const originals = new Map<number, RequestFactory>();
let installed: boolean | undefined;
let fastRequests = 0;

/** kafkajs' own Produce request factory of a version (for tests comparing the encodings). */
export function originalProduceRequest(version: number): RequestFactory | undefined {
  return originals.get(version);
}

/** How many Produce requests took the fast path (for tests and benchmarks). */
export function fastProduceRequests(): number {
  return fastRequests;
}

/**
 * Routes kafkajs' Produce requests v3–v7 made of fastMessage()s to the fast encoder. Idempotent;
 * returns whether it is installed (false: an unexpected kafkajs, which then encodes by itself).
 */
export function installFastProduce(): boolean {
  if (installed !== undefined) return installed;
  try {
    const pkgFile = require.resolve('kafkajs/package.json');
    if ((require(pkgFile) as { version?: string }).version !== '2.2.4') return (installed = false);
    const dir = join(dirname(pkgFile), 'src', 'protocol', 'requests', 'produce');
    const modules: Array<[number, NodeJS.Module]> = [];
    for (let v = FIRST_VERSION; v <= LAST_VERSION; v++) {
      const file = join(dir, `v${v}`, 'request.js');
      require(file);
      const mod = require.cache[file];
      if (!mod || typeof mod.exports !== 'function') return (installed = false);
      modules.push([v, mod]);
    }
    for (const [v, mod] of modules) {
      const original = mod.exports as RequestFactory & { [PATCHED]?: RequestFactory };
      const own = original[PATCHED] ?? original; // another copy of this module patched it already
      originals.set(v, own);
      if (original[PATCHED]) continue;
      const patched: RequestFactory = (args) => {
        if (!isFast(args.topicData)) return own(args);
        fastRequests++;
        return {
          apiKey: 0, // Produce
          apiVersion: v,
          apiName: 'Produce',
          expectResponse: () => args.acks !== 0,
          encode: async () => asEncoded(await encodeProduceBody(args)),
        };
      };
      (patched as RequestFactory & { [PATCHED]?: RequestFactory })[PATCHED] = own;
      mod.exports = patched;
    }
    return (installed = true);
  } catch {
    return (installed = false);
  }
}
