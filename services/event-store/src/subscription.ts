import { backoffDelay, isMarkedRetriable } from '@sporbar/common/retry';
import type { RecordedEvent, Subscription } from './port.ts';
import type { Waker } from './waker.ts';

export interface PollingSubscriptionParams {
  /** Events with globalPosition > after, in global order, at most `limit`. */
  readonly readBatch: (after: bigint, limit: number) => Promise<readonly RecordedEvent[]>;
  readonly handler: (event: RecordedEvent) => Promise<void> | void;
  readonly waker: Waker;
  readonly after: bigint;
  readonly batchSize: number;
  /** How long to wait for a wake before polling anyway. */
  readonly pollIntervalMs: number;
  /** Errors from readBatch that are retried (store unavailable); others end the subscription. */
  readonly isRetriable?: (err: unknown) => boolean;
  readonly onStopped?: () => void;
}

/**
 * Catch-up then live, for the SQL adapters: keyset-paginated reads from the checkpoint; when a read
 * comes back short the subscription is live and waits for a wake (NOTIFY / in-process) or the poll
 * interval. The handler runs one event at a time, in global order; the checkpoint only moves after
 * the handler returned, so resuming from the last handled position neither skips nor repeats.
 */
export function startPollingSubscription(params: PollingSubscriptionParams): Subscription {
  const isRetriable = params.isRetriable ?? isMarkedRetriable;
  let stopped = false;
  let checkpoint = params.after;
  let stopWake: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => (stopWake = resolve));

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      const generation = params.waker.generation;
      let batch: readonly RecordedEvent[];
      try {
        batch = await params.readBatch(checkpoint, params.batchSize);
        failures = 0;
      } catch (err) {
        if (stopped) return;
        if (!isRetriable(err)) throw err;
        failures++;
        await Promise.race([delay(backoffDelay(failures, { initialDelayMs: 100, maxDelayMs: 5000 })), stopSignal]);
        continue;
      }
      for (const event of batch) {
        if (stopped) return;
        await params.handler(event);
        checkpoint = event.globalPosition;
      }
      if (batch.length < params.batchSize && !stopped) {
        await Promise.race([params.waker.wait(generation, params.pollIntervalMs), stopSignal]);
      }
    }
  };

  const done = run().finally(() => {
    stopped = true;
    params.onStopped?.();
  });
  done.catch(() => undefined); // the owner may never look at `done`; a handler error must not crash the process
  return {
    done,
    async stop() {
      stopped = true;
      stopWake?.();
      await done.catch(() => undefined);
    },
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
