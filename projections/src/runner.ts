import { isConnectionError, isMarkedRetriable, retry, type EventStore, type RecordedEvent, type Subscription } from '@sporbar/event-store';
import type { Codec } from '@sporbar/schemas';
import { withPrefix, type AnyProjection, type ProjectedEvent } from './projection.ts';
import type { SqlDatabase } from './sql.ts';

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
  /** Events per transaction (default 500). */
  readonly batchSize?: number;
  /** A partial batch is committed after this many ms without a new event (default 20). */
  readonly idleFlushMs?: number;
  readonly onError?: (error: unknown) => void;
}

export function decodeRecorded(codec: Codec, e: RecordedEvent): ProjectedEvent {
  const decoded = codec.decode(e.data);
  return { type: decoded.eventType, data: decoded.event, eventId: e.eventId, globalPosition: e.globalPosition, metadata: e.metadata } as ProjectedEvent;
}

export async function createReadModelTables(db: SqlDatabase, projections: readonly AnyProjection[], prefix = 'rm_'): Promise<void> {
  await db.query(CHECKPOINT_DDL);
  for (const p of projections) for (const ddl of p.ddl) await db.query(withPrefix(ddl, prefix));
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

  const commit = async (batch: ProjectedEvent[]) => {
    const last = batch.at(-1)!.globalPosition;
    await db.transaction(async (tx) => {
      for (const p of projections) {
        const changes = batch.flatMap((e) => p.project(e));
        if (changes.length > 0) await p.apply(tx, changes, prefix);
      }
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

  let failed: unknown;
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0 || failed) return flushing;
    const batch = buffer;
    buffer = [];
    // A database that is briefly away (restart, failover) is waited for; anything else stops the
    // runner, with the read models and the checkpoint still agreeing (nothing of the batch committed).
    flushing = flushing
      .then(() => retry(() => commit(batch), { maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs: 5000, isRetriable: (e) => isMarkedRetriable(e) || isConnectionError(e) }))
      .catch((err) => {
        failed = err;
        options.onError?.(err);
        void subscription?.stop();
      });
    return flushing;
  };

  return {
    async start(): Promise<void> {
      await createReadModelTables(db, projections, prefix);
      position = await readCheckpoint(db, name);
      subscription = store.subscribe(
        async (e) => {
          if (failed) throw failed;
          buffer.push(decodeRecorded(codec, e));
          if (buffer.length >= batchSize) await flush();
          else if (!timer) timer = setTimeout(() => void flush().catch((err) => options.onError?.(err)), idleFlushMs);
        },
        { after: position },
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
