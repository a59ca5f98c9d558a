/**
 * The Kafka transport: an idempotent kafkajs producer (acks=all, one request in flight; uncompressed
 * by default, GZIP on request) with linger batching, in front of a durable local spool.
 *
 * send() resolves at the "accepted" point: Kafka acknowledged the message, or it is fsync'd into the
 * spool. While the broker cannot be reached, batches go to the spool in order and a background
 * drainer retries (exponential backoff with jitter) and delivers the spool in order once the broker
 * is back. As long as the spool holds anything, new messages go behind it into the spool, so one
 * key's events reach Kafka in the order send() was called. The spool is bounded: when full, send()
 * rejects with SPB_ERR_SPOOL_FULL (loud backpressure, never a silent drop). What close() cannot
 * deliver in time stays in the spool and is sent by the next transport that opens the same spoolDir.
 *
 * CPU per message is what limits throughput (not the broker): kafkajs encodes this transport's
 * requests through kafka-fast-produce.ts (same bytes, a fraction of the CPU), keys are partitioned
 * with a 32-bit murmur2 (same mapping as kafkajs' DefaultPartitioner and the Java client), and the
 * batches are not compressed unless asked for (`fastEncoder: false` leaves encoding and partitioning
 * to kafkajs: same bytes, same partitions, more CPU).
 *
 * This module puts the parts together: kafka/config.ts (options and their validation),
 * kafka/batcher.ts (linger batching and the send() groups), kafka/kafkajs-producer.ts (the kafkajs
 * producer), kafka/spool-drainer.ts (spool → Kafka, with backoff) and spool/ (the durable spool).
 */
import { logLevel } from 'kafkajs';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { silentLogger } from './logger.ts';
import { Batcher, settleItems, type Group, type Item } from './kafka/batcher.ts';
import { transportConfig, type KafkaTransportOptions } from './kafka/config.ts';
import { createKafkaSender, describeError } from './kafka/kafkajs-producer.ts';
import { drainSpool } from './kafka/spool-drainer.ts';
import { FlushTimeoutError, TransportClosedError } from './kafka/transport-errors.ts';
import { encodeMessage } from './spool/message-codec.ts';
import { Spool, type SpoolRecovery } from './spool/spool.ts';
import type { OutgoingMessage, Transport } from './transport.ts';

export type { TransportLogger } from './logger.ts';
export { consoleLogger, silentLogger, type LogLevel } from './logger.ts';
export { DEFAULT_TOPIC, type KafkaTransportOptions } from './kafka/config.ts';
export { FlushTimeoutError, TransportClosedError } from './kafka/transport-errors.ts';

export interface KafkaTransportStats {
  /** 'spool' while anything is spooled (new messages queue behind it), else 'direct'. */
  readonly mode: 'direct' | 'spool';
  /** Messages waiting in memory for their batch (not yet accepted). */
  readonly buffered: number;
  readonly spoolPendingRecords: number;
  readonly spoolDiskBytes: number;
  /** Messages acknowledged by Kafka straight from send(). */
  readonly deliveredDirect: number;
  /** Messages accepted into the spool. */
  readonly spooled: number;
  /** Spooled messages acknowledged by Kafka. */
  readonly drained: number;
  readonly sendFailures: number;
  readonly producerResets: number;
}

export interface KafkaTransport extends Transport {
  /** Rejects with SPB_ERR_TRANSPORT_CLOSED after close(), SPB_ERR_INVALID_MESSAGE, SPB_ERR_OVERSIZED, SPB_ERR_SPOOL_FULL or SPB_ERR_SPOOL_IO. */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Resolves when nothing is buffered, in flight or spooled; rejects with FlushTimeoutError
   * (SPB_ERR_FLUSH_TIMEOUT) after timeoutMs, and with TransportClosedError (SPB_ERR_TRANSPORT_CLOSED)
   * once the transport is closed with events still in the spool.
   */
  flush(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Flushes for at most timeoutMs (default 10 s), spools whatever is still buffered, stops the
   * drainer and disconnects. Undelivered events stay in the spool for the next start.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  stats(): KafkaTransportStats;
  /** Whether this transport's Produce requests go through kafka-fast-produce.ts (option fastEncoder, and kafkajs 2.2.4). */
  readonly fastEncoder: boolean;
  /** Resolves once the spool is open (with what was recovered from a previous run). */
  readonly ready: Promise<SpoolRecovery>;
}

export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  const cfg = transportConfig(options);
  const log = options.logger ?? silentLogger;
  const counters = { deliveredDirect: 0, spooled: 0, drained: 0, sendFailures: 0, producerResets: 0 };
  const kafka = createKafkaSender(cfg, {
    log,
    kafkaLogLevel: options.logger ? (options.kafkaLogLevel ?? logLevel.WARN) : logLevel.NOTHING,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    onProducerReset: () => void counters.producerResets++,
  });
  const batcher = new Batcher(cfg.batchSize, cfg.maxBatchBytes, cfg.lingerMs);

  let spool: Spool | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let dispatching = false;
  let spoolMode = false;
  let draining: Promise<void> | undefined;
  let firstChunkHint: number | undefined;
  let flushing = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  const stop = new AbortController();
  const waiters = new Map<() => void, (err: Error) => void>();
  /** send() calls with messages not yet settled (accepted or refused), in call order. */
  const unsettled = new Set<Group>();

  const ready: Promise<SpoolRecovery> = Spool.open({
    dir: cfg.spoolDir,
    maxBytes: cfg.maxSpoolBytes,
    ...(cfg.spoolSegmentBytes === undefined ? {} : { segmentBytes: cfg.spoolSegmentBytes }),
  }).then((s) => {
    spool = s;
    const { recovery } = s;
    if (recovery.pendingRecords > 0 || recovery.truncatedBytes > 0) log.info({ ...recovery, component: 'spool' }, 'spool opened with undelivered events from a previous run');
    if (!s.isEmpty) {
      spoolMode = true;
      startDrainer();
    }
    return recovery;
  });
  ready.catch((err: unknown) => log.error({ err: describeError(err), component: 'spool' }, 'the spool could not be opened'));

  const notify = () => {
    for (const check of [...waiters.keys()]) check();
  };
  const pendingCount = () => batcher.count + (spool?.stats().pendingRecords ?? 0);

  /** Resolve when `cond` holds (re-checked on every state change); reject with FlushTimeoutError after timeoutMs. */
  function waitUntil(cond: () => boolean, timeoutMs: number | undefined): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (!cond()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      waiters.set(check, (err) => {
        waiters.delete(check);
        clearTimeout(timer);
        reject(err);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiters.get(check)?.(new FlushTimeoutError(timeoutMs, pendingCount())), timeoutMs);
      }
    });
  }

  function settle(items: readonly Item[], err: unknown): void {
    settleItems(items, err, unsettled);
    notify();
  }

  // ---- the batching dispatcher: buffer → Kafka, or → spool ----

  const due = () => batcher.count > 0 && (spoolMode || closing || flushing > 0 || batcher.ready(Date.now()));

  function schedule(): void {
    if (dispatching || batcher.count === 0) return;
    if (due()) {
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
      void dispatchLoop();
    } else if (!lingerTimer) {
      lingerTimer = setTimeout(() => {
        lingerTimer = undefined;
        schedule();
      }, batcher.lingerLeft(Date.now()));
    }
  }

  function spoolBatch(batch: readonly Item[]): void {
    let payloads: Buffer[];
    try {
      payloads = batch.map((i) => encodeMessage(i.msg));
    } catch (err) {
      settle(batch, err);
      return;
    }
    // Not awaited: appends queue in order inside the spool and are group-committed.
    spool!.append(payloads).then(
      () => {
        counters.spooled += batch.length;
        settle(batch, undefined);
      },
      (err: unknown) => {
        if (isSporbarError(err, 'SPB_ERR_SPOOL_FULL')) log.error({ component: 'spool', rejected: batch.length, ...err.details }, 'spool full: rejecting events (backpressure)');
        else log.error({ component: 'spool', rejected: batch.length, err: describeError(err) }, 'spool write failed: rejecting events');
        settle(batch, err);
      },
    );
  }

  async function dispatchLoop(): Promise<void> {
    if (dispatching) return;
    dispatching = true;
    try {
      try {
        await ready;
      } catch (err) {
        settle(batcher.takeAll(), err);
        return;
      }
      while (due()) {
        const batch = batcher.take();
        if (spoolMode) {
          spoolBatch(batch);
          continue;
        }
        try {
          await kafka.send(batch.map((i) => i.msg));
          counters.deliveredDirect += batch.length;
          settle(batch, undefined);
        } catch (err) {
          counters.sendFailures++;
          log.warn({ err: describeError(err), messages: batch.length }, 'Kafka send failed; spooling and retrying in the background');
          if (!spoolMode) {
            spoolMode = true;
            // The spool was empty: its first drain chunk is exactly this batch, so that the idempotent
            // producer can recognise a resend of a batch the broker did write (no duplicate).
            firstChunkHint = batch.length;
          }
          spoolBatch(batch);
          startDrainer();
        }
      }
    } finally {
      dispatching = false;
      notify();
      schedule();
    }
  }

  // ---- the drainer: spool → Kafka, in order ----

  function startDrainer(): void {
    if (draining || stop.signal.aborted) return;
    draining = drainSpool({
      spool: spool!,
      send: (messages) => kafka.send(messages),
      batchSize: cfg.batchSize,
      maxBatchBytes: cfg.maxBatchBytes,
      backoff: { initialDelayMs: cfg.backoffInitialMs, maxDelayMs: cfg.backoffMaxMs },
      log,
      signal: stop.signal,
      takeChunkHint: () => {
        const hint = firstChunkHint;
        firstChunkHint = undefined;
        return hint;
      },
      onDelivered: (records) => {
        counters.drained += records;
        notify();
      },
      onFailure: () => void counters.sendFailures++,
      onDrained: () => {
        spoolMode = false;
      },
    })
      .catch((err: unknown) => log.error({ err: describeError(err) }, 'the spool drainer stopped unexpectedly'))
      .finally(() => {
        draining = undefined;
        notify();
        schedule();
      });
  }

  // ---- the Transport ----

  function send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (closing) return Promise.reject(new TransportClosedError(0));
    if (messages.length === 0) return Promise.resolve();
    const acceptedAt = Date.now();
    const sizes: number[] = [];
    for (const m of messages) {
      if (!Buffer.isBuffer(m.value) || typeof m.key !== 'string') return Promise.reject(new SporbarError('SPB_ERR_INVALID_MESSAGE', 'OutgoingMessage needs a string key and a Buffer value'));
      let size = m.value.length + Buffer.byteLength(m.key);
      const headers = m.headers;
      for (const k in headers) {
        if (!Object.hasOwn(headers, k)) continue;
        const v = headers[k];
        if (typeof v !== 'string') return Promise.reject(new SporbarError('SPB_ERR_INVALID_MESSAGE', 'OutgoingMessage header values must be strings', { details: { header: k } }));
        size += Buffer.byteLength(k) + Buffer.byteLength(v);
      }
      if (size > cfg.maxMessageBytes) {
        return Promise.reject(
          new SporbarError('SPB_ERR_OVERSIZED', `a message of ${size} bytes exceeds the transport's maxMessageBytes (${cfg.maxMessageBytes})`, {
            details: { size, maxMessageBytes: cfg.maxMessageBytes },
          }),
        );
      }
      sizes.push(size);
    }
    return new Promise<void>((resolve, reject) => {
      const group: Group = { remaining: messages.length, failed: false, resolve, reject };
      unsettled.add(group);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        batcher.push({ msg: { key: m.key, value: m.value, headers: m.headers, acceptedAt }, size: sizes[i]!, group });
      }
      schedule();
    });
  }

  /**
   * Everything send() was called with before flush() is delivered: first every such message is
   * settled (acknowledged by Kafka, spooled or refused), then the spool is acknowledged up to the
   * last record appended by then. Messages sent after flush() was called do not hold it up.
   */
  async function flush(opts?: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = opts?.timeoutMs ?? cfg.flushTimeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const left = () => (deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
    const groups = [...unsettled];
    await ready;
    if (stop.signal.aborted) {
      const pending = spool!.stats().pendingRecords;
      if (pending === 0) return;
      throw new TransportClosedError(pending);
    }
    flushing++;
    try {
      schedule();
      let i = 0; // groups settle in call order, near enough: scan forward
      await waitUntil(() => {
        while (i < groups.length && groups[i]!.remaining === 0) i++;
        return i === groups.length;
      }, left());
      const s = spool!;
      const target = s.stats().nextSeq;
      await waitUntil(() => s.stats().ackSeq >= target, left());
    } finally {
      flushing--;
    }
  }

  function close(opts?: { timeoutMs?: number }): Promise<void> {
    closed ??= (async () => {
      closing = true;
      schedule();
      try {
        await ready;
      } catch {
        return; // nothing was opened
      }
      try {
        await flush({ timeoutMs: opts?.timeoutMs ?? 10_000 });
      } catch (err) {
        if (!(err instanceof FlushTimeoutError)) throw err;
        log.warn({ pending: err.pending }, 'close: not everything reached Kafka in time; the rest stays in the spool for the next start');
      }
      // Whatever is still buffered is accepted into the spool; then the drainer stops.
      spoolMode = true;
      stop.abort();
      spool!.wakeWaiters();
      schedule();
      await waitUntil(() => batcher.count === 0 && !dispatching && draining === undefined, undefined);
      const left = spool!.stats().pendingRecords;
      await spool!.close();
      await kafka.disconnect();
      // A flush() still waiting cannot complete any more: what it waits for stays in the spool.
      for (const fail of [...waiters.values()]) fail(new TransportClosedError(left, 'the transport was closed'));
    })();
    return closed;
  }

  return {
    send,
    flush,
    close,
    ready,
    fastEncoder: kafka.fastEncoder,
    stats: () => ({
      mode: spoolMode ? 'spool' : 'direct',
      buffered: batcher.count,
      spoolPendingRecords: spool?.stats().pendingRecords ?? 0,
      spoolDiskBytes: spool?.stats().diskBytes ?? 0,
      ...counters,
    }),
  };
}
