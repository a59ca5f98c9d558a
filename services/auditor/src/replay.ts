import { allProjections, createReadModelTables, decodeRecorded, dropReadModelTables, type AnyProjection, type ProjectedEvent, type Sql, type SqlDatabase } from '@sporbar/projections';
import { eventStoreSchemas } from '@sporbar/event-store';
import { registerFiles as defaultRegisterFiles, type Codec, type DisclosureRecorded, type RegisterPublished, type RegisterSource } from '@sporbar/schemas';
import { createClassificationCheck, type ClassificationAudit } from './classification-check.ts';
import type { LogSource } from './log/source.ts';

/**
 * `replay`: rebuilds every read model as it was at a point of the log, into a scratch database, by
 * the same pure `project` + `apply` the live runner uses, in batches of `batchSize` events per
 * transaction, with the same `projection_checkpoints` row. A point is a position (everything up to
 * and including it) or a time (the longest prefix of the log recorded at or before it: read models
 * follow the log's order, so a replay never skips an earlier event to take a later one).
 *
 * `diff`: compares two sets of read-model tables (replayed vs live) row by row, by primary key. With a
 * scope (`diffScope`), it compares like with like: rows of event-keyed tables only for the events the
 * log held at the replayed point (a live row for a later event is "not yet in the log at T", not a
 * difference; one for an event the log does not hold at all is), and aggregate tables only when both
 * sides stop at the same position. Set-valued columns (`SET_COLUMNS`) are compared as sets.
 */
export type ReplayPoint = { readonly position: bigint } | { readonly time: Date } | { readonly head: true };

export interface ReplayOptions {
  readonly source: LogSource;
  readonly codec: Codec;
  /** The scratch database; its read-model tables (prefix `rm_`) are dropped and rebuilt. */
  readonly into: SqlDatabase;
  readonly at: ReplayPoint;
  /**
   * The register files (default: the packaged ones): the projections take the retention and consent
   * rules of the version in force at each disclosure, and every stored classification is judged again
   * by it (`classification` of the result). A fixed ProcessingRegister judges every disclosure by itself.
   */
  readonly register?: RegisterSource;
  readonly projections?: readonly AnyProjection[];
  readonly batchSize?: number;
  readonly onProgress?: (events: number, position: bigint) => void;
}

export interface ReplayResult {
  readonly events: number;
  /** Position of the last event applied (0 when none). */
  readonly position: bigint;
  readonly seconds: number;
  /** Each disclosure judged again by the notice version in force at its occurredAt, and whether that version was published. */
  readonly classification: ClassificationAudit;
}

export const REPLAY_PREFIX = 'rm_';

/** Refuses a target that holds an event store: a replay must never overwrite a live system. */
export async function assertScratch(db: Sql): Promise<void> {
  const stores = await eventStoreSchemas({ query: async <R>(text: string, params?: readonly unknown[]) => (await db.query<R>(text, params && [...params])).rows });
  if (stores.length > 0) throw new Error(`the replay target holds an events table (an event store? schema ${stores.join(', ')}): give a scratch database`);
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = process.hrtime.bigint();
  const source: RegisterSource = options.register ?? defaultRegisterFiles;
  const projections = options.projections ?? allProjections(source);
  const check = createClassificationCheck(source);
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
      const decoded = decodeRecorded(options.codec, {
          eventId: row.eventId,
          type: row.type,
          data: Buffer.from(row.data),
          metadata: row.metadata,
          streamName: row.streamName,
          streamRevision: 0n,
          globalPosition: row.position,
          recordedAt: row.recordedAt,
        });
      if (decoded.type === 'RegisterPublished') check.registerPublished(decoded.data as RegisterPublished, row.position);
      else if (decoded.type === 'DisclosureRecorded') check.disclosure(decoded.data as DisclosureRecorded, decoded.metadata, row.position);
      batch.push(decoded);
      events++;
      position = row.position;
      if (batch.length >= batchSize) return commit();
    },
    'position' in at ? { upTo: at.position } : {},
  );
  await commit();
  return { events, position, seconds: Number(process.hrtime.bigint() - started) / 1e9, classification: check.result() };
}

// ---- diff ----

/**
 * Read-model columns whose value is a set (the order of the array carries no meaning: a summary of one
 * disclosure keeps the event's order, one of several the sorted union). Every text[] column of the
 * read models must be listed here or in ORDERED_ARRAY_COLUMNS (a test checks), so a new one is a decision.
 */
export const SET_COLUMNS: ReadonlySet<string> = new Set(['legal_bases', 'data_categories', 'activities', 'purposes', 'reasons']);
export const ORDERED_ARRAY_COLUMNS: ReadonlySet<string> = new Set<string>();

/** What the log held at the replayed point: the comparison's scope. */
export interface DiffScope {
  /** Events at or before this position are compared (the replayed point, or the live checkpoint when that is earlier). */
  readonly upTo: bigint;
  /** Where the replay stopped and where the live read model stands (undefined: not known, taken as the head). */
  readonly replayedAt: bigint;
  readonly liveAt: bigint | undefined;
  /** How the point is named in the output: 'T (position 30)', 'the live checkpoint (position 69)'. */
  readonly label: string;
  /** Event ids (lower case) the log holds at or before upTo, and after it. */
  readonly held: ReadonlySet<string>;
  readonly later: ReadonlySet<string>;
}

/** One pass over the log (leaf columns): which event ids it holds up to `upTo` and after. Memory: one id per event. */
export async function diffScope(source: LogSource, args: { replayedAt: bigint; liveAt: bigint | undefined; label: string }): Promise<DiffScope> {
  const upTo = args.liveAt !== undefined && args.liveAt < args.replayedAt ? args.liveAt : args.replayedAt;
  const held = new Set<string>();
  const later = new Set<string>();
  await source.scan((row) => void (row.position <= upTo ? held : later).add(row.eventId.toLowerCase()), { columns: 'leaf' });
  const label = upTo < args.replayedAt ? `${args.label}, cut to position ${upTo} where the live read model stands` : args.label;
  return { upTo, replayedAt: args.replayedAt, liveAt: args.liveAt, label, held, later };
}

/** Two column values equal, set-valued columns as sets (pure). */
export function sameValue(column: string, a: unknown, b: unknown): boolean {
  if (SET_COLUMNS.has(column) && Array.isArray(a) && Array.isArray(b)) {
    const x = [...new Set(a.map((v) => JSON.stringify(v)))].sort();
    const y = [...new Set(b.map((v) => JSON.stringify(v)))].sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface RowDifference {
  readonly table: string;
  /** 'unknown-event': a live row for an event the log does not hold at all (with a scope). */
  readonly kind: 'missing' | 'extra' | 'changed' | 'unknown-event';
  /** The primary key, column → value. */
  readonly key: Record<string, unknown>;
  /** For 'changed': column → [replayed, live]. */
  readonly columns?: Record<string, [unknown, unknown]>;
}

export interface TableDiff {
  readonly table: string;
  readonly replayed: number;
  readonly live: number;
  readonly differences: number;
  /** Live rows for events the log held only after the scope's point: not compared. */
  readonly notYetInLog?: number;
  /** Replayed rows for events the live read model has not reached (its checkpoint is earlier): not compared. */
  readonly notYetLive?: number;
  /** Why the table was not compared (an aggregate, with the two sides at different points). */
  readonly skipped?: string;
}

export interface DiffResult {
  readonly tables: TableDiff[];
  /** The scope the comparison kept to, when one was given. */
  readonly scope?: { readonly upTo: bigint; readonly label: string };
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
  readonly register?: RegisterSource;
  readonly projections?: readonly AnyProjection[];
  readonly maxDifferences?: number;
  /** Compare only what the log held at the replayed point (`diffScope`). */
  readonly scope?: DiffScope;
}

/**
 * Row-by-row comparison of every read-model table, keyed by the table's primary key. Rows are compared
 * as `to_jsonb`, so both sides may be PGlite or PostgreSQL. Holds one table of each side in memory at a time.
 */
export async function diffReadModels(options: DiffOptions): Promise<DiffResult> {
  const projections = options.projections ?? allProjections(options.register ?? defaultRegisterFiles);
  const rp = options.replayedPrefix ?? REPLAY_PREFIX;
  const lp = options.livePrefix ?? (await livePrefix(options.live));
  const max = options.maxDifferences ?? 1000;
  const scope = options.scope;
  const differences: RowDifference[] = [];
  const tables: TableDiff[] = [];
  let total = 0;
  for (const p of projections) {
    for (const t of p.tables) {
      const replayedTable = `${rp}${t}`;
      const liveTable = `${lp}${t}`;
      const key = await primaryKey(options.replayed, replayedTable);
      const a = await loadRows(options.replayed, replayedTable, key);
      const b = await loadRows(options.live, liveTable, key);
      const eventKeyed = key.length === 1 && key[0] === 'event_id';
      if (scope && !eventKeyed && scope.liveAt !== undefined && scope.liveAt !== scope.replayedAt) {
        tables.push({
          table: t,
          replayed: a.size,
          live: b.size,
          differences: 0,
          skipped: `it aggregates many events, and the replay stops at position ${scope.replayedAt} while the live read model stands at position ${scope.liveAt}: no row of it can be compared like with like (diff without --at compares it)`,
        });
        continue;
      }
      const eventOf = (row: Record<string, unknown>) => String(row['event_id']).toLowerCase();
      let notYetInLog = 0;
      let notYetLive = 0;
      if (scope && eventKeyed) {
        for (const [k, row] of a) {
          if (scope.held.has(eventOf(row))) continue;
          a.delete(k);
          notYetLive++;
        }
      }
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
          if (!sameValue(c, row[c], other[c])) columns[c] = [row[c], other[c]];
        }
        if (Object.keys(columns).length > 0) push({ table: t, kind: 'changed', key: keyOf(row), columns });
      }
      for (const [k, row] of b) {
        if (a.has(k)) continue;
        if (scope && eventKeyed && !scope.held.has(eventOf(row))) {
          if (scope.later.has(eventOf(row))) notYetInLog++;
          else push({ table: t, kind: 'unknown-event', key: keyOf(row) });
          continue;
        }
        push({ table: t, kind: 'extra', key: keyOf(row) });
      }
      found.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      for (const [, d] of found) if (differences.length < max) differences.push(d);
      total += found.length;
      tables.push({
        table: t,
        replayed: a.size,
        live: b.size - notYetInLog,
        differences: found.length,
        ...(notYetInLog > 0 ? { notYetInLog } : {}),
        ...(notYetLive > 0 ? { notYetLive } : {}),
      });
    }
  }
  return { tables, differences, truncated: total > differences.length, ...(scope ? { scope: { upTo: scope.upTo, label: scope.label } } : {}) };
}

/**
 * "missing" = in the replay, not in the live read model; "extra" = only in the live one, for an event
 * the log held at the point (or, without a scope, anywhere); "unknown-event" = only in the live one, for
 * an event the log does not hold at all. Rows for events not yet in the log at the point are counted,
 * not listed.
 */
export function formatDiff(d: DiffResult): string {
  const at = d.scope?.label ?? 'the replayed point';
  const lines: string[] = [];
  if (d.scope) lines.push(`compared like with like: the events the log held at ${d.scope.label}`);
  for (const t of d.tables) {
    if (t.skipped) {
      lines.push(`${t.table}: not compared: ${t.skipped}`);
      continue;
    }
    const notes: string[] = [];
    if (t.notYetInLog) notes.push(`${t.notYetInLog} live row(s) for events not yet in the log at ${at}, not compared`);
    if (t.notYetLive) notes.push(`${t.notYetLive} replayed row(s) for events the live read model has not reached yet, not compared`);
    lines.push(`${t.table}: replayed ${t.replayed} row(s), live ${t.live}, ${t.differences} difference(s)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`);
  }
  for (const x of d.differences) {
    const key = JSON.stringify(x.key);
    if (x.kind === 'missing') lines.push(`  ${x.table} ${key}: missing from the live read model`);
    else if (x.kind === 'unknown-event') lines.push(`  ${x.table} ${key}: extra in the live read model: no event in the log produces it`);
    else if (x.kind === 'extra') lines.push(`  ${x.table} ${key}: extra in the live read model: ${d.scope ? `the log held its event at ${at}, and replaying it does not produce this row` : 'the replay does not produce it'}`);
    else lines.push(`  ${x.table} ${key}: changed ${Object.entries(x.columns!).map(([c, [r, l]]) => `${c}: replayed ${JSON.stringify(r)} ≠ live ${JSON.stringify(l)}`).join('; ')}`);
  }
  if (d.truncated) lines.push('  … more differences not listed');
  return lines.join('\n');
}
