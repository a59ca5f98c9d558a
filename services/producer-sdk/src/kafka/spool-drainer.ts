/**
 * The spool drainer: delivers the spool to Kafka in order, one chunk at a time, acknowledging each
 * chunk in the spool once Kafka has it. While the broker cannot be reached it retries the same chunk
 * with exponential backoff and equal jitter (retry() of @sporbar/common, without a limit on attempts)
 * until it is delivered or the transport stops.
 */
import { retry } from '@sporbar/common/retry';
import type { TransportLogger } from '../logger.ts';
import { decodeMessage, type SpooledMessage } from '../spool/message-codec.ts';
import type { Spool, SpoolEntry } from '../spool/spool.ts';
import { describeError, isRetriable } from './kafkajs-producer.ts';

export interface SpoolDrainerOptions {
  readonly spool: Spool;
  readonly send: (messages: readonly SpooledMessage[]) => Promise<void>;
  /** Records (and about bytes) per chunk. */
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly backoff: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly log: TransportLogger;
  /** Aborting stops the drainer (between chunks, or in its backoff wait). */
  readonly signal: AbortSignal;
  /**
   * Asked before each chunk is read: its size if it must be one batch exactly (the batch whose direct
   * send failed, so that the idempotent producer recognises its resend), else undefined.
   */
  readonly takeChunkHint?: () => number | undefined;
  /** A chunk was delivered and acknowledged in the spool. */
  readonly onDelivered?: (records: number) => void;
  /** A delivery attempt failed (it will be retried). */
  readonly onFailure?: () => void;
  /**
   * The spool was found empty: called synchronously at that moment (before anything else can append),
   * so the caller can switch back to sending directly without overtaking a spooled message.
   */
  readonly onDrained: () => void;
}

/** Resolves when the spool is empty (after onDrained) or the signal aborted. */
export async function drainSpool(o: SpoolDrainerOptions): Promise<void> {
  const s = o.spool;
  let chunk: SpoolEntry[] | undefined;
  let downSince: number | undefined;

  /** One step forward: read the next chunk if none is pending and deliver it; or find the spool empty. */
  const step = async (): Promise<'delivered' | 'empty' | 'waited'> => {
    if (!chunk) {
      const hint = o.takeChunkHint?.();
      chunk = await s.read(hint ?? o.batchSize, hint === undefined ? o.maxBatchBytes : Number.MAX_SAFE_INTEGER);
      if (chunk.length === 0) {
        chunk = undefined;
        if (s.isEmpty) {
          o.onDrained(); // synchronously, before anything else can append
          return 'empty';
        }
        // Appends are queued but not yet durable: wait for them (or for close, which wakes this too).
        await s.waitForChange();
        return 'waited';
      }
    }
    await o.send(chunk.map((e) => decodeMessage(e.payload)));
    await s.ack(chunk.at(-1)!.seq + 1);
    const records = chunk.length;
    chunk = undefined;
    // That was the last of it (nothing appended or queued meanwhile): direct mode again before anyone
    // hears of the delivery, so a flush() that this completes finds the transport sending directly.
    const empty = s.isEmpty;
    if (empty) o.onDrained();
    o.onDelivered?.(records);
    return empty ? 'empty' : 'delivered';
  };

  while (!o.signal.aborted) {
    let outcome: Awaited<ReturnType<typeof step>>;
    try {
      outcome = await retry(step, {
        maxAttempts: Number.POSITIVE_INFINITY,
        initialDelayMs: o.backoff.initialDelayMs,
        maxDelayMs: o.backoff.maxDelayMs,
        isRetriable: () => true, // the spool keeps the events: every failure is worth another try
        signal: o.signal,
        onRetry: (err, attempt, delay) => {
          o.onFailure?.();
          downSince ??= Date.now();
          const retriable = isRetriable(err);
          const level = attempt === 1 || attempt % 10 === 0 ? (retriable ? 'warn' : 'error') : 'debug';
          o.log[level](
            { err: describeError(err), attempt, retryInMs: delay, spooled: s.stats().pendingRecords },
            retriable ? 'Kafka unavailable; events stay in the spool' : 'Kafka refuses the spooled events; retrying (they stay in the spool)',
          );
        },
      });
    } catch {
      return; // retry() gives up only when the signal aborted: the transport is closing
    }
    if (outcome === 'empty') {
      if (downSince !== undefined) o.log.info({ downMs: Date.now() - downSince }, 'spool drained; sending directly again');
      return;
    }
  }
}
