import type { EventStore } from '@sporbar/event-store';
import type { Codec } from '@sporbar/schemas';
import { withPrefix, type AnyProjection } from './projection.ts';
import { createProjectionRunner, createReadModelIndexes, type ProjectionRunner } from './runner.ts';
import type { Sql, SqlDatabase } from './sql.ts';

/**
 * Which set of read-model tables the API reads: a one-row table, so a rebuild can fill fresh tables
 * beside the live ones and switch over in one UPDATE, without downtime.
 */
const ACTIVE_DDL = `CREATE TABLE IF NOT EXISTS read_model_active (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  prefix text NOT NULL,
  switched_at timestamptz NOT NULL DEFAULT now()
)`;

export const DEFAULT_PREFIX = 'rm_';
const PREFIX_PATTERN = /^rm_([a-z0-9]{1,16}_)?$/;

/**
 * Two processes creating the table at once on a fresh database (the projector, the API and the
 * retention worker start together) race in PostgreSQL's catalogue: the loser gets a unique violation
 * on pg_type (23505) or "already exists" (42P07 for the relation, 42710 for its row type). Either way the table is there now.
 */
const createdMeanwhile = (err: unknown): boolean => ['23505', '42P07', '42710'].includes((err as { code?: string }).code ?? '');

export async function activePrefix(db: Sql): Promise<string> {
  await db.query(ACTIVE_DDL).catch((err: unknown) => {
    if (!createdMeanwhile(err)) throw err;
  });
  const { rows } = await db.query<{ prefix: string }>('SELECT prefix FROM read_model_active WHERE id = 1');
  return rows[0]?.prefix ?? DEFAULT_PREFIX;
}

async function switchActivePrefix(db: Sql, prefix: string): Promise<void> {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`bad read-model prefix ${prefix}`);
  await db.query(
    `INSERT INTO read_model_active (id, prefix, switched_at) VALUES (1, $1, now()) ON CONFLICT (id) DO UPDATE SET prefix = excluded.prefix, switched_at = now()`,
    [prefix],
  );
}

export async function dropReadModelTables(db: Sql, projections: readonly AnyProjection[], prefix: string): Promise<void> {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`bad read-model prefix ${prefix}`);
  for (const p of projections) for (const t of p.tables) await db.query(withPrefix(`DROP TABLE IF EXISTS {prefix}${t}`, prefix));
  await db.query('DELETE FROM projection_checkpoints WHERE name = $1', [`read-models:${prefix}`]);
}

export interface RebuildOptions {
  readonly store: EventStore;
  readonly db: SqlDatabase;
  readonly codec: Codec;
  readonly projections: readonly AnyProjection[];
  /** Events per transaction while catching up (default 5,000: fewer, larger set-based statements). */
  readonly batchSize?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Replays the whole log from position 0 into fresh tables while the live ones keep serving, then
 * switches the API over. Returns the new runner (live from here on) and the previous prefix, whose
 * runner the caller stops and whose tables it drops.
 */
export interface RebuildResult {
  readonly prefix: string;
  readonly previous: string;
  /** The new runner, live from here on. */
  readonly runner: ProjectionRunner;
  /** Events replayed (the head of the log when the rebuild started). */
  readonly events: bigint;
  /** Replay until caught up with that head. */
  readonly catchUpSeconds: number;
  /** Everything: replay, the query-only indexes and statistics, the switch-over. */
  readonly seconds: number;
}

export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const started = process.hrtime.bigint();
  const previous = await activePrefix(options.db);
  const prefix = `rm_${Date.now().toString(36)}_`;
  const runner = createProjectionRunner({ ...options, prefix, batchSize: options.batchSize ?? 5000, deferIndexes: true });
  await runner.start();
  const head = await options.store.headPosition();
  await runner.waitFor(head);
  const catchUpSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Caught up: now the indexes only queries need, built in one pass each (the runner waits meanwhile),
  // and statistics, so the API's first queries on the fresh tables are planned well.
  await createReadModelIndexes(options.db, options.projections, prefix);
  for (const p of options.projections) for (const t of p.tables) await options.db.query(withPrefix(`ANALYZE {prefix}${t}`, prefix));
  await switchActivePrefix(options.db, prefix);
  return { prefix, previous, runner, events: head, catchUpSeconds, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
