import type { RetentionSink } from '@sporbar/projections';
import type { LeaderLock } from './leader-lock.ts';
import type { RetentionMetrics } from './metrics.ts';

export interface RetentionServiceLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RetentionServiceOptions {
  readonly lock: LeaderLock;
  /** One run of the rules at `now` through `sink` (runRetention over the active read models); resolves to how many were due. */
  readonly run: (sink: RetentionSink, now: Date) => Promise<number>;
  /** The producer: RetentionExpired into the log (Kafka, or its spool while Kafka is away). */
  readonly sink: RetentionSink;
  readonly intervalMs: number;
  readonly metrics: RetentionMetrics;
  readonly log: RetentionServiceLogger;
  readonly now?: () => Date;
}

export interface RetentionService {
  /** Alive: the loop ticked recently (within two intervals and a margin for a slow run). */
  alive(): boolean;
  /** Whether this instance is the active one. */
  active(): boolean;
  /** Stops the loop after the run in hand (its events handed to the producer), then releases the lock. */
  stop(): Promise<void>;
}

/** The event ids this process already recorded: the read model lags the log, so the next runs see the same due rows. */
const SENT_LIMIT = 100_000;

/**
 * Every interval: keep or take the lock; the active instance runs the rules. A repeat is harmless
 * (runRetention derives each event id from what expires, the ingest stores an id once and derives the
 * SubjectKeyShredded ids from it); this process also skips the ids it recorded itself until the read
 * model has them, so a run while the projector catches up sends nothing twice.
 */
export function startRetentionService(options: RetentionServiceOptions): RetentionService {
  const { lock, metrics, log, intervalMs } = options;
  const now = options.now ?? (() => new Date());
  const sent = new Set<string>();
  let lastTick = Date.now();
  let isActive = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let inHand: Promise<void> = Promise.resolve();

  const sink: RetentionSink = {
    async recordRetentionExpired(input) {
      if (sent.has(input.eventId)) return;
      await options.sink.recordRetentionExpired(input);
      if (sent.size >= SENT_LIMIT) sent.clear();
      sent.add(input.eventId);
      metrics.expired.inc({ rule: input.retentionRule });
    },
  };

  const tick = async () => {
    isActive = await lock.acquire();
    metrics.active.set(isActive ? 1 : 0);
    if (isActive && !stopping) {
      const at = now();
      try {
        const due = await options.run(sink, at);
        metrics.runs.inc({ result: 'ok' });
        metrics.lastSuccess.set(Date.now() / 1000);
        if (due > 0) log.info({ due, at: at.toISOString() }, 'retention run');
      } catch (err) {
        metrics.runs.inc({ result: 'failed' });
        metrics.failures.inc();
        // The class and code only: a database error's text may quote values.
        log.error({ err: { name: (err as Error).name, code: (err as { code?: string }).code } }, 'retention run failed: trying again next interval');
      }
    }
    lastTick = Date.now();
  };
  const loop = () => {
    inHand = tick().finally(() => {
      if (!stopping) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();

  return {
    alive: () => !stopping && Date.now() - lastTick < 2 * intervalMs + 60_000,
    active: () => isActive,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await inHand;
      await lock.release();
      isActive = false;
      metrics.active.set(0);
    },
  };
}
