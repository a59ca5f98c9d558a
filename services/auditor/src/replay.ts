import { allProjections, createReadModelTables, decodeRecorded, dropReadModelTables, type AnyProjection, type ProjectedEvent, type Sql, type SqlDatabase } from '@sporbar/projections';
import { eventStoreSchemas } from '@sporbar/event-store';
import { register as defaultRegister, type Codec, type ProcessingRegister } from '@sporbar/schemas';
import type { LogSource } from './log/source.ts';

/**
 * `replay`: rebuilds every read model as it was at a point of the log, into a scratch database, by
 * the same pure `project` + `apply` the live runner uses, in batches of `batchSize` events per
 * transaction, with the same `projection_checkpoints` row. A point is a position (everything up to
 * and including it) or a time (the longest prefix of the log recorded at or before it: read models
 * follow the log's order, so a replay never skips an earlier event to take a later one).
 *
 * `diff`: compares two sets of read-model tables (replayed vs live) row by row, by primary key.
 */
export type ReplayPoint = { readonly position: bigint } | { readonly time: Date } | { readonly head: true };

export interface ReplayOptions {
  readonly source: LogSource;
  readonly codec: Codec;
  /** The scratch database; its read-model tables (prefix `rm_`) are dropped and rebuilt. */
  readonly into: SqlDatabase;
  readonly at: ReplayPoint;
  readonly register?: ProcessingRegister;
  readonly projections?: readonly AnyProjection[];
  readonly batchSize?: number;
  readonly onProgress?: (events: number, position: bigint) => void;
}

export interface ReplayResult {
  readonly events: number;
  /** Position of the last event applied (0 when none). */
  readonly position: bigint;
  readonly seconds: number;
}

export const REPLAY_PREFIX = 'rm_';

/** Refuses a target that holds an event store: a replay must never overwrite a live system. */
export async function assertScratch(db: Sql): Promise<void> {
  const stores = await eventStoreSchemas({ query: async <R>(text: string, params?: readonly unknown[]) => (await db.query<R>(text, params && [...params])).rows });
  if (stores.length > 0) throw new Error(`the replay target holds an events table (an event store? schema ${stores.join(', ')}): give a scratch database`);
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = process.hrtime.bigint();
  const projections = options.projections ?? allProjections(options.register ?? defaultRegister);
  const batchSize = options.batchSize ?? 1000;
  const db = options.into;
  await assertScratch(db);
  await createReadModelTables(db, projections, REPLAY_PREFIX);
  await dropReadModelTables(db, projections, REPLAY_PREFIX);
  await createReadModelTables(db, projections, REPLAY_PREFIX);

  let batch: ProjectedEvent[] = [];
  let events = 0;
  let position = 0n;
  let stopped = false;
  const commit = async () => {
    if (batch.length === 0) return;
    const todo = batch;
    batch = [];
    const last = todo.at(-1)!.globalPosition;
    await db.transaction(async (tx) => {
      for (const p of projections) {
        const changes = todo.flatMap((e) => p.project(e));
        if (changes.length > 0) await p.apply(tx, changes, REPLAY_PREFIX);
      }
      await tx.query(
        `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
        [`read-models:${REPLAY_PREFIX}`, last.toString()],
      );
    });
    options.onProgress?.(events, last);
  };
  const at = options.at;
  await options.source.scan(
    (row) => {
      if (stopped) return;
      if ('time' in at && row.recordedAt > at.time) {
        stopped = true;
        return;
      }
      batch.push(
        decodeRecorded(options.codec, {
          eventId: row.eventId,
          type: row.type,
          data: Buffer.from(row.data),
          metadata: row.metadata,
          streamName: row.streamName,
          streamRevision: 0n,
          globalPosition: row.position,
          recordedAt: row.recordedAt,
        }),
      );
      events++;
      position = row.position;
      if (batch.length >= batchSize) return commit();
    },
    'position' in at ? { upTo: at.position } : {},
  );
  await commit();
  return { events, position, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

// ---- diff ----

export interface RowDifference {
  readonly table: string;
  readonly kind: 'missing' | 'extra' | 'changed';
  /** The primary key, column → value. */
  readonly key: Record<string, unknown>;
  /** For 'changed': column → [replayed, live]. */
  readonly columns?: Record<string, [unknown, unknown]>;
}

export interface DiffResult {
  readonly tables: { table: string; replayed: number; live: number; differences: number }[];
  readonly differences: RowDifference[];
  /** More differences than `maxDifferences` were found; only the first are listed. */
  readonly truncated: boolean;
}

async function primaryKey(db: Sql, table: string): Promise<string[]> {
  const { rows } = await db.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [table],
  );
  return rows.map((r) => r.attname);
}

async function tableExists(db: Sql, table: string): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  return rows[0]?.t != null;
}

async function loadRows(db: Sql, table: string, key: string[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!(await tableExists(db, table))) return out;
  const { rows } = await db.query<{ j: string }>(`SELECT to_jsonb(t)::text AS j FROM ${table} t`);
  for (const r of rows) {
    const row = JSON.parse(r.j) as Record<string, unknown>;
    out.set(JSON.stringify(key.map((k) => row[k])), row);
  }
  return out;
}

/** The read-model prefix the live API reads (`read_model_active`), without writing to the live database. */
export async function livePrefix(db: Sql): Promise<string> {
  if (!(await tableExists(db, 'read_model_active'))) return 'rm_';
  const { rows } = await db.query<{ prefix: string }>('SELECT prefix FROM read_model_active WHERE id = 1');
  return rows[0]?.prefix ?? 'rm_';
}

/** The live read models' checkpoint: the position they reflect (replay up to it for an exact diff). */
export async function liveCheckpoint(db: Sql, prefix: string): Promise<bigint | undefined> {
  if (!(await tableExists(db, 'projection_checkpoints'))) return undefined;
  const { rows } = await db.query<{ position: string | number }>('SELECT position FROM projection_checkpoints WHERE name = $1', [`read-models:${prefix}`]);
  return rows[0] ? BigInt(rows[0].position) : undefined;
}

export interface DiffOptions {
  readonly replayed: Sql;
  readonly replayedPrefix?: string;
  readonly live: Sql;
  readonly livePrefix?: string;
  readonly register?: ProcessingRegister;
  readonly projections?: readonly AnyProjection[];
  readonly maxDifferences?: number;
}

/**
 * Row-by-row comparison of every read-model table, keyed by the table's primary key. Rows are compared
 * as `to_jsonb`, so both sides may be PGlite or PostgreSQL. Holds one table of each side in memory at a time.
 */
export async function diffReadModels(options: DiffOptions): Promise<DiffResult> {
  const projections = options.projections ?? allProjections(options.register ?? defaultRegister);
  const rp = options.replayedPrefix ?? REPLAY_PREFIX;
  const lp = options.livePrefix ?? (await livePrefix(options.live));
  const max = options.maxDifferences ?? 1000;
  const differences: RowDifference[] = [];
  const tables: DiffResult['tables'] = [];
  let total = 0;
  for (const p of projections) {
    for (const t of p.tables) {
      const replayedTable = `${rp}${t}`;
      const liveTable = `${lp}${t}`;
      const key = await primaryKey(options.replayed, replayedTable);
      const a = await loadRows(options.replayed, replayedTable, key);
      const b = await loadRows(options.live, liveTable, key);
      const found: [string, RowDifference][] = [];
      const push = (d: RowDifference) => found.push([JSON.stringify(Object.values(d.key)), d]);
      const keyOf = (row: Record<string, unknown>) => Object.fromEntries(key.map((k) => [k, row[k]]));
      for (const [k, row] of a) {
        const other = b.get(k);
        if (!other) {
          push({ table: t, kind: 'missing', key: keyOf(row) });
          continue;
        }
        const columns: Record<string, [unknown, unknown]> = {};
        for (const c of new Set([...Object.keys(row), ...Object.keys(other)])) {
          if (JSON.stringify(row[c]) !== JSON.stringify(other[c])) columns[c] = [row[c], other[c]];
        }
        if (Object.keys(columns).length > 0) push({ table: t, kind: 'changed', key: keyOf(row), columns });
      }
      for (const [k, row] of b) if (!a.has(k)) push({ table: t, kind: 'extra', key: keyOf(row) });
      found.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      for (const [, d] of found) if (differences.length < max) differences.push(d);
      total += found.length;
      tables.push({ table: t, replayed: a.size, live: b.size, differences: found.length });
    }
  }
  return { tables, differences, truncated: total > differences.length };
}

/** "missing" = in the replay, not in the live read model; "extra" = only in the live one. */
export function formatDiff(d: DiffResult): string {
  const lines = d.tables.map((t) => `${t.table}: replayed ${t.replayed} row(s), live ${t.live}, ${t.differences} difference(s)`);
  for (const x of d.differences) {
    const key = JSON.stringify(x.key);
    if (x.kind === 'missing') lines.push(`  ${x.table} ${key}: missing from the live read model`);
    else if (x.kind === 'extra') lines.push(`  ${x.table} ${key}: extra in the live read model (the log does not produce it)`);
    else lines.push(`  ${x.table} ${key}: changed ${Object.entries(x.columns!).map(([c, [r, l]]) => `${c}: replayed ${JSON.stringify(r)} ≠ live ${JSON.stringify(l)}`).join('; ')}`);
  }
  if (d.truncated) lines.push('  … more differences not listed');
  return lines.join('\n');
}
