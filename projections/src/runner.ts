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

/**
 * Events a projection could not apply, one row per (runner, projection, position); projection '*'
 * means the stored bytes did not decode (no projection saw the event). The reason is a code and a
 * fixed text (an error class, a SQLSTATE): never the error's message, which may quote the event's
 * values, and never the bytes.
 */
export const QUARANTINE_DDL = `CREATE TABLE IF NOT EXISTS projection_quarantine (
  runner text NOT NULL,
  projection text NOT NULL,
  position bigint NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  reason_code text NOT NULL,
  message text NOT NULL,
  projection_version text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  PRIMARY KEY (runner, projection, position)
)`;

/** One quarantined (event, projection). */
export interface QuarantineEntry {
  readonly projection: string;
  readonly position: bigint;
  readonly eventId: string;
  readonly eventType: string;
  readonly reasonCode: string;
  readonly message: string;
}

/** The reason of a failure as it may be stored and logged: its code and class, never its message. Pure. */
export function quarantineReason(stage: 'decode' | 'project' | 'apply', err: unknown): { reasonCode: string; message: string } {
  const e = err as { code?: unknown; name?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof err;
  const code = typeof e?.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(e.code) ? e.code : undefined;
  if (stage === 'apply' && code && /^[0-9A-Z]{5}$/.test(code)) return { reasonCode: `SQLSTATE_${code}`, message: `the database refused the projection's change (SQLSTATE ${code}, ${name})` };
  const what = { decode: 'the stored bytes do not decode', project: 'the projection threw on the event', apply: "the projection's change could not be applied" }[stage];
  return { reasonCode: code ?? `${stage.toUpperCase()}_FAILED`, message: `${what} (${name}${code ? ` ${code}` : ''})` };
}

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
  /** Called for each event quarantined (the projector counts and logs it: code, never content). */
  readonly onQuarantine?: (entry: QuarantineEntry) => void;
}

const versionOf = (p: AnyProjection): string => p.version ?? '1';
const retriable = (e: unknown) => isMarkedRetriable(e) || isConnectionError(e);

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export function decodeRecorded(codec: Codec, e: RecordedEvent): ProjectedEvent {
  const decoded = codec.decode(e.data);
  return { type: decoded.eventType, data: decoded.event, eventId: e.eventId, globalPosition: e.globalPosition, metadata: e.metadata } as ProjectedEvent;
}

/** The read-model tables (and, unless `indexes: false`, the indexes only queries need). */
export async function createReadModelTables(db: SqlDatabase, projections: readonly AnyProjection[], prefix = 'rm_', options: { indexes?: boolean } = {}): Promise<void> {
  await db.query(CHECKPOINT_DDL);
  await db.query(QUARANTINE_DDL);
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
  // Events of the buffer that did not decode, and the last position read (the checkpoint covers them too).
  let undecodable: QuarantineEntry[] = [];
  let lastRead = 0n;
  let quarantinedCount = 0;
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let subscription: Subscription | undefined;
  let position = 0n;
  const waiters: Array<{ at: bigint; resolve: () => void }> = [];

  // Pure: what each projection makes of the batch, and its statements where it can build them ahead.
  // Done once, while the previous batch commits (one projection at a time, letting that commit's I/O
  // through in between), and reused when the commit is retried.
  interface Batch {
    readonly events: readonly ProjectedEvent[];
    readonly undecodable: readonly QuarantineEntry[];
    readonly last: bigint;
  }
  interface PreparedBatch {
    readonly runs: Prepared[];
    /** Per projection, per event: its changes (for the one-by-one fallback). */
    readonly perEvent: Array<{ p: AnyProjection; event: ProjectedEvent; changes: unknown[] }>;
    readonly quarantine: QuarantineEntry[];
  }
  const entryOf = (p: string, e: ProjectedEvent, reason: { reasonCode: string; message: string }): QuarantineEntry => ({ projection: p, position: e.globalPosition, eventId: e.eventId, eventType: e.type, ...reason });

  // Pure: what each projection makes of the batch, and its statements where it can build them ahead.
  // Done once, while the previous batch commits (one projection at a time, letting that commit's I/O
  // through in between), and reused when the commit is retried. A projection that throws on one
  // event has that (event, projection) quarantined; the other projections still apply the event.
  const prepare = async (batch: Batch): Promise<PreparedBatch> => {
    const runs: Prepared[] = [];
    const perEvent: PreparedBatch['perEvent'] = [];
    const quarantine = [...batch.undecodable];
    for (const p of projections) {
      const changes: unknown[] = [];
      for (const e of batch.events) {
        try {
          const c = p.project(e);
          if (c.length > 0) {
            changes.push(...c);
            perEvent.push({ p, event: e, changes: c });
          }
        } catch (err) {
          quarantine.push(entryOf(p.name, e, quarantineReason('project', err)));
        }
      }
      if (changes.length > 0) runs.push(p.prepare ? p.prepare(changes, prefix) : (tx: Sql) => p.apply(tx, changes, prefix));
      await yieldToIo();
    }
    return { runs, perEvent, quarantine };
  };

  const recordQuarantine = async (tx: Sql, entries: readonly QuarantineEntry[]) => {
    for (const q of entries) {
      const version = q.projection === '*' ? '*' : versionOf(projections.find((p) => p.name === q.projection)!);
      await tx.query(
        `INSERT INTO projection_quarantine (runner, projection, position, event_id, event_type, reason_code, message, projection_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (runner, projection, position) DO UPDATE SET reason_code = excluded.reason_code, message = excluded.message,
           projection_version = excluded.projection_version, attempts = projection_quarantine.attempts + 1, resolved_at = NULL`,
        [name, q.projection, q.position.toString(), q.eventId, q.eventType, q.reasonCode, q.message, version],
      );
    }
  };

  /**
   * The fallback when the batch's transaction fails for a reason that is not a passing outage: each
   * projection's changes of each event under its own savepoint; the ones the database refuses are
   * rolled back to it and quarantined, the rest commit with the checkpoint. Per projection and per
   * event, because projections are independent read models: one that cannot take an event must not
   * hold back the others (or the other events).
   */
  const commitOneByOne = async (batch: Batch, prepared: PreparedBatch): Promise<QuarantineEntry[]> => {
    const refused: QuarantineEntry[] = [];
    await db.transaction(async (tx) => {
      refused.length = 0;
      for (const { p, event, changes } of prepared.perEvent) {
        await tx.query('SAVEPOINT sporbar_event');
        try {
          await p.apply(tx, changes, prefix);
          await tx.query('RELEASE SAVEPOINT sporbar_event');
        } catch (err) {
          if (retriable(err)) throw err;
          await tx.query('ROLLBACK TO SAVEPOINT sporbar_event');
          refused.push(entryOf(p.name, event, quarantineReason('apply', err)));
        }
      }
      await recordQuarantine(tx, [...prepared.quarantine, ...refused]);
      await writeCheckpoint(tx, batch.last);
    });
    return refused;
  };

  const writeCheckpoint = (tx: Sql, last: bigint) =>
    tx.query(
      `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
      [name, last.toString()],
    );

  const commit = async (batch: Batch, prepared: PreparedBatch) => {
    let quarantined = prepared.quarantine;
    try {
      await db.transaction(async (tx) => {
        for (const run of prepared.runs) await run(tx);
        await recordQuarantine(tx, prepared.quarantine);
        await writeCheckpoint(tx, batch.last);
      });
    } catch (err) {
      if (retriable(err)) throw err;
      quarantined = [...prepared.quarantine, ...(await commitOneByOne(batch, prepared))];
    }
    for (const q of quarantined) {
      quarantinedCount++;
      options.onQuarantine?.(q);
    }
    position = batch.last;
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
    if ((buffer.length === 0 && undecodable.length === 0) || failed) return flushing;
    const batch: Batch = { events: buffer, undecodable, last: lastRead };
    buffer = [];
    undecodable = [];
    // Projected right away, while the previous batch may still be committing.
    const prepared = prepare(batch);
    // A database that is briefly away (restart, failover) is waited for; anything else stops the
    // runner, with the read models and the checkpoint still agreeing (nothing of the batch committed).
    flushing = Promise.all([flushing, prepared])
      .then(([, c]) => retry(() => commit(batch, c), { maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs: 5000, isRetriable: retriable }))
      .catch((err) => {
        failed = err;
        options.onError?.(err);
        void subscription?.stop();
      });
    return flushing;
  };

  const api = {
    async start(): Promise<void> {
      await createReadModelTables(db, projections, prefix, { indexes: !options.deferIndexes });
      position = await readCheckpoint(db, name);
      await api.requeue();
      subscription = store.subscribe(
        async (e) => {
          if (failed) throw failed;
          lastRead = e.globalPosition;
          try {
            buffer.push(decodeRecorded(codec, e));
          } catch (err) {
            // Undecodable bytes: no projection can see the event. Quarantined, and the log moves on.
            undecodable.push({ projection: '*', position: e.globalPosition, eventId: e.eventId, eventType: e.type, ...quarantineReason('decode', err) });
          }
          // Decoding a page is a long run of microtasks: let I/O through now and then, so the commit
          // in flight gets its next statement sent as soon as the database answers the last one.
          if (buffer.length % 200 === 0) await yieldToIo();
          if (buffer.length + undecodable.length >= batchSize) {
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
    /**
     * Re-applies quarantined events of projections whose `version` changed since (a fixed projection),
     * or with `all`, every unresolved one; decode failures ('*') only with `all`. Each event is applied
     * and its row marked resolved in one transaction: exactly once. One still failing stays
     * quarantined (attempts + 1, the new reason). Returns how many were applied.
     */
    async requeue(opts: { all?: boolean } = {}): Promise<{ applied: number; stillFailing: number }> {
      const { rows } = await db.query<{ projection: string; position: string; projection_version: string }>(
        `SELECT projection, position::text AS position, projection_version FROM projection_quarantine WHERE runner = $1 AND resolved_at IS NULL ORDER BY position, projection`,
        [name],
      );
      let applied = 0;
      let stillFailing = 0;
      for (const row of rows) {
        const targets = row.projection === '*' ? (opts.all ? projections : []) : projections.filter((p) => p.name === row.projection && (opts.all || versionOf(p) !== row.projection_version));
        if (targets.length === 0) continue;
        const at = BigInt(row.position);
        let recorded: RecordedEvent | undefined;
        for await (const e of store.readAll({ after: at - 1n, maxCount: 1 })) recorded = e.globalPosition === at ? e : undefined;
        if (!recorded) continue;
        let entry: QuarantineEntry | undefined;
        let gone = false;
        await db.transaction(async (tx) => {
          entry = undefined;
          // Another requeue (a `requeue` command beside a starting `run`) may have applied it meanwhile: exactly once.
          const open = await tx.query(`SELECT 1 FROM projection_quarantine WHERE runner = $1 AND projection = $2 AND position = $3 AND resolved_at IS NULL FOR UPDATE`, [name, row.projection, row.position]);
          gone = open.rows.length === 0;
          if (gone) return;
          let event: ProjectedEvent;
          try {
            event = decodeRecorded(codec, recorded);
          } catch (err) {
            entry = { projection: row.projection, position: at, eventId: recorded.eventId, eventType: recorded.type, ...quarantineReason('decode', err) };
            await recordQuarantine(tx, [entry]);
            return;
          }
          for (const p of targets) {
            await tx.query('SAVEPOINT sporbar_requeue');
            try {
              const changes = p.project(event);
              if (changes.length > 0) await p.apply(tx, changes, prefix);
              await tx.query('RELEASE SAVEPOINT sporbar_requeue');
            } catch (err) {
              if (retriable(err)) throw err;
              await tx.query('ROLLBACK TO SAVEPOINT sporbar_requeue');
              entry = entryOf(row.projection, event, quarantineReason('apply', err));
              break;
            }
          }
          if (entry) await recordQuarantine(tx, [entry]);
          else await tx.query(`UPDATE projection_quarantine SET resolved_at = now() WHERE runner = $1 AND projection = $2 AND position = $3`, [name, row.projection, row.position]);
        });
        if (gone) continue;
        if (entry) stillFailing++;
        else applied++;
      }
      return { applied, stillFailing };
    },
    /** Its checkpoint name: what `projection_quarantine.runner` holds for it. */
    get name() {
      return name;
    },
    /** Events quarantined by this runner since it started. */
    get quarantined() {
      return quarantinedCount;
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
  return api;
}

export type ProjectionRunner = ReturnType<typeof createProjectionRunner>;
