import { isMarkedRetriable, retry } from '@sporbar/common/retry';
import { isConnectionError, type EventStore, type RecordedEvent, type Subscription } from '@sporbar/event-store';
import type { Codec } from '@sporbar/schemas';
import { withPrefix, type AnyProjection, type Prepared, type ProjectedEvent } from './projection.ts';
import type { Sql, SqlDatabase } from './sql.ts';

export const CHECKPOINT_DDL = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
)`;

export interface RunnerOptions {
  readonly store: EventStore;
  readonly db: SqlDatabase;
  readonly codec: Codec;
  readonly projections: readonly AnyProjection[];
  /** Table name prefix of the read models (default 'rm_'); a rebuild uses a fresh one. */
  readonly prefix?: string;
  /** Checkpoint name (default 'read-models:<prefix>'). */
  readonly name?: string;
  /** Events per transaction, and per read of the log (default 500; a rebuild uses 5,000). */
  readonly batchSize?: number;
  /** A partial batch is committed once no new event has come for this many ms (default 20). */
  readonly idleFlushMs?: number;
  /** Create the query-only indexes later (createReadModelIndexes), as a rebuild does once caught up. */
  readonly deferIndexes?: boolean;
  readonly onError?: (error: unknown) => void;
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export function decodeRecorded(codec: Codec, e: RecordedEvent): ProjectedEvent {
  const decoded = codec.decode(e.data);
  return { type: decoded.eventType, data: decoded.event, eventId: e.eventId, globalPosition: e.globalPosition, metadata: e.metadata } as ProjectedEvent;
}

/** The read-model tables (and, unless `indexes: false`, the indexes only queries need). */
export async function createReadModelTables(db: SqlDatabase, projections: readonly AnyProjection[], prefix = 'rm_', options: { indexes?: boolean } = {}): Promise<void> {
  await db.query(CHECKPOINT_DDL);
  for (const p of projections) for (const ddl of p.ddl) await db.query(withPrefix(ddl, prefix));
  if (options.indexes !== false) await createReadModelIndexes(db, projections, prefix);
}

/** The indexes only queries need (see Projection.indexes). */
export async function createReadModelIndexes(db: SqlDatabase, projections: readonly AnyProjection[], prefix = 'rm_'): Promise<void> {
  for (const p of projections) for (const ddl of p.indexes ?? []) await db.query(withPrefix(ddl, prefix));
}

export async function readCheckpoint(db: SqlDatabase, name: string): Promise<bigint> {
  const { rows } = await db.query<{ position: string | number }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name]);
  return rows[0] ? BigInt(rows[0].position) : 0n;
}

/**
 * Subscribes to the global log from the stored checkpoint and applies each batch of changes and
 * the new checkpoint in one transaction: after a crash the read models and the checkpoint agree,
 * so every event takes effect exactly once.
 */
export function createProjectionRunner(options: RunnerOptions) {
  const { store, db, codec, projections } = options;
  const prefix = options.prefix ?? 'rm_';
  const name = options.name ?? `read-models:${prefix}`;
  const batchSize = options.batchSize ?? 500;
  const idleFlushMs = options.idleFlushMs ?? 20;
  let buffer: ProjectedEvent[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let subscription: Subscription | undefined;
  let position = 0n;
  const waiters: Array<{ at: bigint; resolve: () => void }> = [];

  // Pure: what each projection makes of the batch, and its statements where it can build them ahead.
  // Done once, while the previous batch commits (one projection at a time, letting that commit's I/O
  // through in between), and reused when the commit is retried.
  const prepare = async (batch: readonly ProjectedEvent[]): Promise<Prepared[]> => {
    const prepared: Prepared[] = [];
    for (const p of projections) {
      const changes = batch.flatMap((e) => p.project(e));
      if (changes.length > 0) prepared.push(p.prepare ? p.prepare(changes, prefix) : (tx: Sql) => p.apply(tx, changes, prefix));
      await yieldToIo();
    }
    return prepared;
  };

  const commit = async (batch: readonly ProjectedEvent[], prepared: readonly Prepared[]) => {
    const last = batch.at(-1)!.globalPosition;
    await db.transaction(async (tx) => {
      for (const run of prepared) await run(tx);
      await tx.query(
        `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
        [name, last.toString()],
      );
    });
    position = last;
    for (const w of waiters.filter((w) => w.at <= position)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };

  // A partial batch is committed once no event has come for idleFlushMs (not idleFlushMs after its
  // first event: while catching up, a batch takes longer than that to read and decode).
  let lastEventAt = 0;
  const idle = () => {
    timer = undefined;
    const wait = lastEventAt + idleFlushMs - performance.now();
    if (wait > 0) timer = setTimeout(idle, wait);
    else void flush().catch((err) => options.onError?.(err));
  };

  let failed: unknown;
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0 || failed) return flushing;
    const batch = buffer;
    buffer = [];
    // Projected right away, while the previous batch may still be committing.
    const prepared = prepare(batch);
    // A database that is briefly away (restart, failover) is waited for; anything else stops the
    // runner, with the read models and the checkpoint still agreeing (nothing of the batch committed).
    flushing = Promise.all([flushing, prepared])
      .then(([, c]) => retry(() => commit(batch, c), { maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs: 5000, isRetriable: (e) => isMarkedRetriable(e) || isConnectionError(e) }))
      .catch((err) => {
        failed = err;
        options.onError?.(err);
        void subscription?.stop();
      });
    return flushing;
  };

  return {
    async start(): Promise<void> {
      await createReadModelTables(db, projections, prefix, { indexes: !options.deferIndexes });
      position = await readCheckpoint(db, name);
      subscription = store.subscribe(
        async (e) => {
          if (failed) throw failed;
          buffer.push(decodeRecorded(codec, e));
          // Decoding a page is a long run of microtasks: let I/O through now and then, so the commit
          // in flight gets its next statement sent as soon as the database answers the last one.
          if (buffer.length % 200 === 0) await yieldToIo();
          if (buffer.length >= batchSize) {
            // The next batch is read and decoded while this one commits: wait only for the one before.
            const previous = flushing;
            void flush();
            await previous;
          } else {
            lastEventAt = performance.now();
            if (!timer) timer = setTimeout(idle, idleFlushMs);
          }
        },
        { after: position, batchSize: Math.max(batchSize, 500) },
      );
      subscription.done.catch((err) => options.onError?.(err));
    },
    /** Resolves once every event up to `at` is reflected in the read models. */
    waitFor(at: bigint): Promise<void> {
      if (position >= at) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ at, resolve }));
    },
    get position() {
      return position;
    },
    async stop(): Promise<void> {
      await subscription?.stop();
      await flush();
    },
  };
}

export type ProjectionRunner = ReturnType<typeof createProjectionRunner>;
