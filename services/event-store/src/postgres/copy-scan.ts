import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ScanAllOptions, ScannedEvent } from '../port.ts';
import { SKIPPED, scanLimit } from './scan-all.ts';

/**
 * `scanAll` on PostgreSQL: one `COPY (SELECT ...) TO STDOUT (FORMAT binary)` over the requested
 * range, read with pg-copy-streams and parsed here. One statement, so one snapshot: a scan never
 * sees half of a concurrent append. Rows are handed to `onEvent` as the socket is read, without a
 * driver object per row; `data` is a view into the received chunk.
 *
 * The binary format (PostgreSQL docs, "COPY", binary format): an 11-byte signature, a 32-bit flags
 * field and a 32-bit header-extension length (plus the extension); then per tuple a 16-bit field
 * count and, per field, a 32-bit length and that many bytes (-1: NULL); a field count of -1 ends
 * the data. Integers are big-endian. The fields are the columns below, in their binary send format:
 * int8, uuid (16 bytes), bytea (raw), text (UTF-8), timestamptz (int8 microseconds since
 * 2000-01-01 UTC).
 */

const LEAF_COLUMNS = 'e.global_position, e.event_id, e.data';
const FULL_COLUMNS = `${LEAF_COLUMNS}, e.event_type, e.stream_name, e.recorded_at, e.metadata::text`;
const LEAF_FIELDS = 3;
const FULL_FIELDS = 7;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags and the extension length. */
const HEADER_BYTES = SIGNATURE.length + 4 + 4;
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
/** `walkTuple`: the tuple does not end in this buffer. */
const INCOMPLETE = -1;
/** `walkTuple`: the trailer (field count -1) instead of a tuple. */
const TRAILER = -2;

function copyError(message: string): Error {
  return new Error(`COPY binary: ${message}`);
}

/** The COPY statement for a scan of `schema`'s events, or undefined when nothing can match. */
export function scanAllCopyStatement(schema: string, options: ScanAllOptions | undefined): string | undefined {
  const limit = scanLimit(options);
  if (limit === 0) return undefined;
  const where = [`e.global_position > ${BigInt(options?.after ?? 0n).toString()}`];
  if (options?.upTo !== undefined) where.push(`e.global_position <= ${BigInt(options.upTo).toString()}`);
  const columns = options?.columns === 'leaf' ? LEAF_COLUMNS : FULL_COLUMNS;
  return (
    `COPY (SELECT ${columns} FROM ${schema}.events e WHERE ${where.join(' AND ')} ORDER BY e.global_position` +
    `${Number.isFinite(limit) ? ` LIMIT ${limit}` : ''}) TO STDOUT (FORMAT binary)`
  );
}

/**
 * Reads the fields of the tuple at `o`: their offsets into `starts`, their lengths into `lengths`.
 * Returns the offset after the tuple, INCOMPLETE when `buf` ends inside it, or TRAILER.
 */
function walkTuple(buf: Buffer, o: number, fields: number, starts: Int32Array, lengths: Int32Array): number {
  if (o + 2 > buf.length) return INCOMPLETE;
  const count = buf.readInt16BE(o);
  if (count === -1) return TRAILER;
  if (count !== fields) throw copyError(`expected ${fields} fields, got ${count}`);
  let at = o + 2;
  for (let i = 0; i < fields; i++) {
    if (at + 4 > buf.length) return INCOMPLETE;
    const length = buf.readInt32BE(at);
    if (length < 0) throw copyError(`field ${i} is NULL`); // every column scanned is NOT NULL
    at += 4;
    if (at + length > buf.length) return INCOMPLETE;
    starts[i] = at;
    lengths[i] = length;
    at += length;
  }
  return at;
}

/** Offset after the file header at the start of `buf`, or INCOMPLETE. */
function skipHeader(buf: Buffer): number {
  if (buf.length < HEADER_BYTES) return INCOMPLETE;
  if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw copyError('bad signature');
  const end = HEADER_BYTES + buf.readInt32BE(SIGNATURE.length + 4);
  return end <= buf.length ? end : INCOMPLETE;
}

function uuidText(b: Buffer, o: number): string {
  const h = b.toString('hex', o, o + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Runs the scan on a client of `pool`. A promise returned by `onEvent` is awaited before the next
 * row is parsed; meanwhile pg-copy-streams stops reading the socket once its buffer is full, so
 * the server waits too. If the scan ends early (an error from `onEvent` or the stream), the client
 * is in the middle of a COPY and is discarded instead of returned to the pool.
 */
export async function scanAllByCopy(
  connect: () => Promise<pg.PoolClient>,
  schema: string,
  onEvent: (event: ScannedEvent) => void | Promise<void>,
  options: ScanAllOptions | undefined,
): Promise<void> {
  const text = scanAllCopyStatement(schema, options);
  if (text === undefined) return;
  const full = options?.columns !== 'leaf';
  const fields = full ? FULL_FIELDS : LEAF_FIELDS;
  const starts = new Int32Array(fields);
  const lengths = new Int32Array(fields);
  const epoch = new Date(0);

  const client = await connect();
  // A checked-out client needs an error listener of its own: a server going away mid-COPY would
  // otherwise be an unhandled 'error' event. The stream fails anyway.
  const onClientError = () => undefined;
  client.on('error', onClientError);
  let completed = false;
  try {
    const stream = client.query(copyTo(text));
    // The stream reports a late error (the client discarded mid-COPY) by emitting it: keep it handled.
    stream.on('error', () => undefined);
    let headerSeen = false;
    let ended = false;
    /** The unparsed end of the previous chunk (a tuple split across chunks). */
    let rest: Buffer | undefined;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      rest = undefined;
      let o = 0;
      if (!headerSeen) {
        o = skipHeader(buf);
        if (o === INCOMPLETE) {
          rest = buf;
          continue;
        }
        headerSeen = true;
      }
      while (o < buf.length) {
        if (ended) throw copyError('data after the trailer');
        const end = walkTuple(buf, o, fields, starts, lengths);
        if (end === TRAILER) {
          ended = true;
          o += 2;
          continue;
        }
        if (end === INCOMPLETE) {
          rest = buf.subarray(o);
          break;
        }
        const position = buf.readBigInt64BE(starts[0]!);
        const eventId = uuidText(buf, starts[1]!);
        const data = buf.subarray(starts[2]!, starts[2]! + lengths[2]!);
        let event: ScannedEvent;
        if (full) {
          const metadataLength = lengths[6]!;
          event = {
            position,
            eventId,
            data,
            type: buf.toString('utf8', starts[3]!, starts[3]! + lengths[3]!),
            streamName: buf.toString('utf8', starts[4]!, starts[4]! + lengths[4]!),
            recordedAt: new Date(PG_EPOCH_MS + Math.floor(Number(buf.readBigInt64BE(starts[5]!)) / 1000)),
            // '{}' (2 bytes) is the usual metadata of an event without any: no JSON.parse for it.
            metadata: metadataLength <= 2 ? {} : (JSON.parse(buf.toString('utf8', starts[6]!, starts[6]! + metadataLength)) as Record<string, string>),
          };
        } else {
          event = { position, eventId, data, type: SKIPPED.type, streamName: SKIPPED.streamName, recordedAt: epoch, metadata: SKIPPED.metadata };
        }
        o = end;
        const pending = onEvent(event);
        if (pending) await pending;
      }
    }
    if (!ended || rest) throw copyError('the stream ended before its trailer');
    completed = true;
  } finally {
    client.off('error', onClientError);
    client.release(completed ? undefined : true);
  }
}
