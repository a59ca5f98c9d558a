import type pg from 'pg';
import type { EventStore } from '@sporbar/event-store';

/**
 * Where the auditor reads the global log from. Three implementations, one contract:
 *
 *   - `storeLogSource(store)`: through the EventStore port (`readAll`), any adapter, EventStoreDB included;
 *   - `sqlLogSource(db)`: PGlite or `pg`, keyset pages straight from `<schema>.events`;
 *   - `pgCopyLogSource(pool)`: PostgreSQL `COPY (SELECT …) TO STDOUT (FORMAT binary)`, one statement, one
 *     snapshot, rows handed to the callback while the socket is read (no per-row objects from the
 *     driver): the fast path of `verify` and `export` (about 2–3× the keyset read, see bench/).
 *
 * `scan` calls `onRow` once per event, in global order, with a fresh leaf index. `row.data` may be a
 * view into a network buffer: it is valid during the call only (copy it to keep it). If `onRow`
 * returns a promise, reading pauses until it settles (backpressure for writers such as `export`).
 */
export interface LogRow {
  readonly position: bigint;
  readonly eventId: string;
  /** The stored bytes: exactly what the leaf hashes. Valid during the callback only. */
  readonly data: Uint8Array;
  readonly type: string;
  readonly streamName: string;
  readonly recordedAt: Date;
  /** The event's metadata (projections read classification and reasons from it); {} in 'leaf' scans. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ScanOptions {
  /** Exclusive position to start after (default: the beginning). */
  readonly after?: bigint;
  /** Stop after this many rows. */
  readonly maxCount?: number;
  /** Only rows with position ≤ this. */
  readonly upTo?: bigint;
  /**
   * 'leaf': only position, eventId and data are needed (type and streamName may be '' and recordedAt
   * the epoch); lets the COPY path skip three columns. Default 'full'.
   */
  readonly columns?: 'full' | 'leaf';
}

export interface LogSource {
  readonly description: string;
  /** True when the store promises gap-free positions (PGlite and PostgreSQL adapters: 1, 2, 3, …). */
  readonly contiguousPositions: boolean;
  scan(onRow: (row: LogRow) => void | Promise<void>, options?: ScanOptions): Promise<void>;
  /** Every event that claims to be a checkpoint (by type column or stream), cheap to find; a hint only. */
  checkpointCandidates(): Promise<{ position: bigint; data: Uint8Array; origin?: string }[]>;
  /** SQL stores: the position counter the append function keeps (`<schema>.positions.last`). */
  lastAssignedPosition?(): Promise<bigint | undefined>;
}

export const CHECKPOINT_STREAM = 'log-checkpoints';

/** Through the port: works for every adapter; ~1× the adapter's read rate. */
export function storeLogSource(store: EventStore, batchSize = 1000): LogSource {
  return {
    description: `event store (${store.adapter}, via readAll)`,
    contiguousPositions: store.adapter !== 'eventstoredb',
    async scan(onRow, options = {}) {
      let count = 0;
      const max = options.maxCount ?? Number.POSITIVE_INFINITY;
      if (max <= 0) return;
      for await (const e of store.readAll({ after: options.after ?? 0n, batchSize })) {
        if (options.upTo !== undefined && e.globalPosition > options.upTo) return;
        const r = onRow({ position: e.globalPosition, eventId: e.eventId, data: e.data, type: e.type, streamName: e.streamName, recordedAt: e.recordedAt, metadata: e.metadata });
        if (r) await r;
        if (++count >= max) return;
      }
    },
    async checkpointCandidates() {
      const out: { position: bigint; data: Uint8Array; origin?: string }[] = [];
      for await (const e of store.readStream(CHECKPOINT_STREAM)) {
        const origin = e.metadata['origin'];
        out.push({ position: e.globalPosition, data: e.data, ...(origin ? { origin } : {}) });
      }
      return out;
    },
  };
}

/** What `sqlLogSource` needs: PGlite's `query(…, { rowMode: 'array' })` or a `pg` Pool, adapted. */
export interface ArrayQuery {
  (text: string, params: readonly unknown[]): Promise<unknown[][]>;
}

export function pgliteArrayQuery(db: { query<T>(text: string, params?: unknown[], options?: { rowMode?: 'array' | 'object' }): Promise<{ rows: T[] }> }): ArrayQuery {
  return async (text, params) => (await db.query<unknown[]>(text, [...params], { rowMode: 'array' })).rows;
}

export function pgArrayQuery(pool: pg.Pool): ArrayQuery {
  return async (text, params) => (await pool.query({ text, values: [...params], rowMode: 'array' })).rows as unknown[][];
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;
export function checkSchema(schema: string): string {
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  return schema;
}

const parseMetadata = (v: unknown): Record<string, string> => (typeof v === 'string' ? (JSON.parse(v) as Record<string, string>) : ((v as Record<string, string> | null) ?? {}));
const asBytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : Buffer.from(String(v).replace(/^\\x/, ''), 'hex'));

/** Keyset pages of the events table (the same SQL the adapters run), rows as arrays. */
export function sqlLogSource(query: ArrayQuery, options: { schema?: string; batchSize?: number; description?: string } = {}): LogSource {
  const s = checkSchema(options.schema ?? 'sporbar');
  const batchSize = options.batchSize ?? 5000;
  return {
    description: options.description ?? `SQL (${s}.events, keyset pages)`,
    contiguousPositions: true,
    async scan(onRow, opts = {}) {
      let after = opts.after ?? 0n;
      let remaining = opts.maxCount ?? Number.POSITIVE_INFINITY;
      const upTo = opts.upTo !== undefined ? ` AND e.global_position <= ${BigInt(opts.upTo).toString()}` : '';
      while (remaining > 0) {
        const limit = Math.min(batchSize, remaining);
        const rows = await query(
          `SELECT e.global_position::text, e.event_id::text, e.data, e.event_type, e.stream_name, e.recorded_at, e.metadata
             FROM ${s}.events e WHERE e.global_position > $1${upTo} ORDER BY e.global_position LIMIT $2`,
          [after.toString(), limit],
        );
        for (const r of rows) {
          const row: LogRow = {
            position: BigInt(r[0] as string),
            eventId: r[1] as string,
            data: asBytes(r[2]),
            type: r[3] as string,
            streamName: r[4] as string,
            recordedAt: r[5] instanceof Date ? r[5] : new Date(String(r[5])),
            metadata: parseMetadata(r[6]),
          };
          const p = onRow(row);
          if (p) await p;
        }
        remaining -= rows.length;
        if (rows.length < limit) return;
        after = BigInt(rows.at(-1)![0] as string);
      }
    },
    async checkpointCandidates() {
      const rows = await query(
        `SELECT e.global_position::text, e.data, e.metadata->>'origin' FROM ${s}.events e WHERE e.event_type = 'CheckpointSigned' OR e.stream_name = $1 ORDER BY e.global_position`,
        [CHECKPOINT_STREAM],
      );
      return rows.map((r) => ({ position: BigInt(r[0] as string), data: asBytes(r[1]), ...(r[2] ? { origin: r[2] as string } : {}) }));
    },
    async lastAssignedPosition() {
      const rows = await query(`SELECT p.last::text FROM ${s}.positions p WHERE p.id = 1`, []);
      return rows[0] ? BigInt(rows[0][0] as string) : undefined;
    },
  };
}

// ---- PostgreSQL COPY … TO STDOUT (FORMAT binary) ----

/** The pieces of pg's Connection the COPY query uses (pg has no public COPY OUT API without pg-copy-streams). */
interface PgConnection {
  query(text: string): void;
  stream: { pause(): void; resume(): void };
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function uuidText(b: Buffer, o: number): string {
  const h = b.toString('hex', o, o + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Runs `COPY (select) TO STDOUT (FORMAT binary)` on a client of the pool and hands each tuple to
 * `onTuple` (the whole CopyData message; PostgreSQL sends one per row). A promise returned by
 * `onTuple` pauses the socket; tuples already received meanwhile are queued (copied).
 */
async function copyOut(pool: pg.Pool, text: string, onTuple: (msg: Buffer) => void | Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      let con: PgConnection | undefined;
      let failed: unknown;
      let waiting: Buffer[] | undefined; // set while a returned promise is pending
      let finished = false;
      const fail = (e: unknown) => {
        if (failed === undefined) failed = e;
      };
      const drain = (): void => {
        while (waiting && waiting.length > 0 && failed === undefined) {
          const msg = waiting.shift()!;
          let p: void | Promise<void>;
          try {
            p = onTuple(msg);
          } catch (e) {
            fail(e);
            break;
          }
          if (p) {
            p.then(drain, (e) => {
              fail(e);
              drain();
            });
            return;
          }
        }
        waiting = undefined;
        con?.stream.resume();
        if (finished) settle();
      };
      const settle = () => {
        if (waiting) return; // the queue finishes first
        if (failed !== undefined) reject(failed);
        else resolve();
      };
      const query = {
        submit(connection: PgConnection) {
          con = connection;
          connection.query(text);
        },
        handleCopyData(msg: { chunk: Buffer }) {
          if (failed !== undefined) return;
          if (waiting) {
            waiting.push(Buffer.from(msg.chunk));
            return;
          }
          let p: void | Promise<void>;
          try {
            p = onTuple(msg.chunk);
          } catch (e) {
            fail(e);
            return;
          }
          if (p) {
            waiting = [];
            con?.stream.pause();
            p.then(drain, (e) => {
              fail(e);
              drain();
            });
          }
        },
        handleCommandComplete() {},
        handleRowDescription() {},
        handleDataRow() {},
        handleEmptyQuery() {},
        handlePortalSuspended() {},
        handleCopyInResponse() {},
        handleReadyForQuery() {
          finished = true;
          settle();
        },
        handleError(err: unknown) {
          fail(err);
          finished = true;
          if (!waiting) settle();
        },
      };
      (client as unknown as { query(q: unknown): void }).query(query);
    });
  } finally {
    client.release();
  }
}

/**
 * The fast path on PostgreSQL: one COPY in binary format over the whole requested range. The rows come
 * from one snapshot, so a verify never sees half of a concurrent append.
 */
export function pgCopyLogSource(pool: pg.Pool, options: { schema?: string } = {}): LogSource {
  const s = checkSchema(options.schema ?? 'sporbar');
  const sql = sqlLogSource(pgArrayQuery(pool), { schema: s });
  return {
    description: `PostgreSQL (${s}.events, COPY binary)`,
    contiguousPositions: true,
    checkpointCandidates: () => sql.checkpointCandidates(),
    lastAssignedPosition: () => sql.lastAssignedPosition!(),
    async scan(onRow, opts = {}) {
      const where = [`e.global_position > ${(opts.after ?? 0n).toString()}`];
      if (opts.upTo !== undefined) where.push(`e.global_position <= ${BigInt(opts.upTo).toString()}`);
      const limit = opts.maxCount !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.maxCount))}` : '';
      const full = opts.columns !== 'leaf';
      const columns = full ? 'e.global_position, e.event_id, e.data, e.event_type, e.stream_name, e.recorded_at, e.metadata::text' : 'e.global_position, e.event_id, e.data';
      const text = `COPY (SELECT ${columns} FROM ${s}.events e WHERE ${where.join(' AND ')} ORDER BY e.global_position${limit}) TO STDOUT (FORMAT binary)`;
      const expected = full ? 7 : 3;
      const empty = Object.freeze({}) as Record<string, string>;
      const epoch = new Date(0);
      let headerSeen = false;
      await copyOut(pool, text, (msg) => {
        let o = 0;
        if (!headerSeen) {
          // The first CopyData carries the 11-byte signature, flags and header extension (PostgreSQL sends
          // it together with the first tuple or alone).
          if (!msg.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error('COPY binary: bad signature');
          o = 11 + 4 + 4 + msg.readInt32BE(15);
          headerSeen = true;
          if (o >= msg.length) return;
        }
        const fields = msg.readInt16BE(o);
        if (fields === -1) return; // trailer
        if (fields !== expected) throw new Error(`COPY binary: expected ${expected} fields, got ${fields}`);
        o += 2;
        o += 4;
        const position = msg.readBigInt64BE(o);
        o += 8 + 4;
        const eventId = uuidText(msg, o);
        o += 16;
        const dataLen = msg.readInt32BE(o);
        const data = msg.subarray(o + 4, o + 4 + dataLen);
        o += 4 + dataLen;
        if (!full) return onRow({ position, eventId, data, type: '', streamName: '', recordedAt: epoch, metadata: empty });
        const typeLen = msg.readInt32BE(o);
        const type = msg.toString('utf8', o + 4, o + 4 + typeLen);
        o += 4 + typeLen;
        const streamLen = msg.readInt32BE(o);
        const streamName = msg.toString('utf8', o + 4, o + 4 + streamLen);
        o += 4 + streamLen + 4;
        const recordedAt = new Date(PG_EPOCH_MS + Number(msg.readBigInt64BE(o) / 1000n));
        o += 8;
        const metaLen = msg.readInt32BE(o);
        const metadata = metaLen <= 2 ? empty : (JSON.parse(msg.toString('utf8', o + 4, o + 4 + metaLen)) as Record<string, string>);
        return onRow({ position, eventId, data, type, streamName, recordedAt, metadata });
      });
    },
  };
}
