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
 * batches are not compressed unless asked for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, type KafkaConfig, type logCreator, type Producer, type RetryOptions } from 'kafkajs';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { FastKeyPartitioner, fastMessage, installFastProduce } from './kafka-fast-produce.ts';
import { decodeMessage, encodeMessage, type SpooledMessage } from './spool/message-codec.ts';
import { DEFAULT_MAX_SPOOL_BYTES, Spool, type SpoolEntry, type SpoolRecovery } from './spool/spool.ts';
import type { OutgoingMessage, Transport } from './transport.ts';

/** The part of a pino logger the transport uses (a pino Logger fits). Keys and values are never logged. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface KafkaTransportOptions {
  /** Bootstrap brokers, e.g. ['kafka-1:9092']. */
  readonly brokers: readonly string[];
  /** Directory of the durable local spool (one transport per directory at a time). */
  readonly spoolDir: string;
  /** Default 'sporbar.disclosures'. */
  readonly topic?: string;
  /** Default 'sporbar-producer'. */
  readonly clientId?: string;
  /** How long a message may wait for others to fill a batch. Default 5 ms. */
  readonly lingerMs?: number;
  /** Messages per Kafka request (and per spool read). Default 500. */
  readonly batchSize?: number;
  /** Approximate uncompressed bytes per Kafka request. Default 512 KiB. */
  readonly maxBatchBytes?: number;
  /**
   * Record batch compression. Default 'none': on a local network the CPU GZIP costs in this process
   * (and the broker's decompression to validate) outweighs the bytes it saves. 'gzip' for slow links.
   */
  readonly compression?: 'none' | 'gzip';
  /** Larger messages are refused by send() with SPB_ERR_OVERSIZED. Default 900 KiB (under the broker's 1 MB default). */
  readonly maxMessageBytes?: number;
  /** Bound on the spool's disk use. Default 256 MiB. */
  readonly maxSpoolBytes?: number;
  /** Spool segment size. Default maxSpoolBytes/8 within [64 KiB, 16 MiB]. */
  readonly spoolSegmentBytes?: number;
  /** kafkajs connection timeout. Default 1000 ms. */
  readonly connectionTimeoutMs?: number;
  /** kafkajs request timeout. Default 5000 ms. */
  readonly requestTimeoutMs?: number;
  /** kafkajs retry within one send. Default { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 }: a down broker is noticed within seconds. */
  readonly retry?: RetryOptions;
  /** Drainer backoff between attempts while the broker is away. Default { initialMs: 100, maxMs: 5000 }, with jitter. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Default timeout of flush() when called without one (Producer.close() calls flush()). Default: none (wait until delivered). */
  readonly flushTimeoutMs?: number;
  readonly logger?: TransportLogger;
  /** kafkajs' own log level, routed to `logger`. Default WARN. */
  readonly kafkaLogLevel?: logLevel;
  readonly ssl?: KafkaConfig['ssl'];
  readonly sasl?: KafkaConfig['sasl'];
}

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
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Resolves when nothing is buffered, in flight or spooled; rejects with FlushTimeoutError after timeoutMs. */
  flush(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Flushes for at most timeoutMs (default 10 s), spools whatever is still buffered, stops the
   * drainer and disconnects. Undelivered events stay in the spool for the next start.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  stats(): KafkaTransportStats;
  /** Resolves once the spool is open (with what was recovered from a previous run). */
  readonly ready: Promise<SpoolRecovery>;
}

/** flush() did not finish in time; `pending` events are still spooled or in flight (not lost). */
export class FlushTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly pending: number,
    reason = `flush did not complete within ${timeoutMs} ms`,
  ) {
    super(`${reason}; ${pending} events are not yet delivered (they stay in the spool)`);
    this.name = 'FlushTimeoutError';
  }
}

export const DEFAULT_TOPIC = 'sporbar.disclosures';

interface Group {
  /** Messages of this send() not yet acknowledged by Kafka, spooled or refused. */
  remaining: number;
  failed: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

interface Item {
  readonly msg: SpooledMessage;
  readonly size: number;
  readonly group: Group;
}

const silentLogger: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Errors after which the idempotent producer's id/sequence state is unusable: start a new producer. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

function config(options: KafkaTransportOptions) {
  const bad = (what: string): never => {
    throw new SporbarError('SPB_ERR_CONFIG', `Kafka transport: ${what}`);
  };
  const int = (name: string, v: number | undefined, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const n = v ?? dflt;
    if (!Number.isSafeInteger(n) || n < min || n > max) bad(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
    return n;
  };
  if (!Array.isArray(options.brokers) || options.brokers.length === 0 || options.brokers.some((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$/.test(b))) {
    bad('brokers must be a non-empty list of host:port');
  }
  if (typeof options.spoolDir !== 'string' || options.spoolDir.trim() === '') bad('spoolDir is required');
  const topic = options.topic ?? DEFAULT_TOPIC;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) bad(`invalid topic name ${JSON.stringify(topic)}`);
  const initialMs = int('backoff.initialMs', options.backoff?.initialMs, 100, 1);
  const cfg = {
    topic,
    clientId: options.clientId ?? 'sporbar-producer',
    lingerMs: int('lingerMs', options.lingerMs, 5, 0, 60_000),
    batchSize: int('batchSize', options.batchSize, 500, 1, 100_000),
    maxBatchBytes: int('maxBatchBytes', options.maxBatchBytes, 512 * 1024, 1024),
    maxMessageBytes: int('maxMessageBytes', options.maxMessageBytes, 900 * 1024, 1, 64 * 1024 * 1024 - 1024),
    maxSpoolBytes: int('maxSpoolBytes', options.maxSpoolBytes, DEFAULT_MAX_SPOOL_BYTES, 1024),
    connectionTimeoutMs: int('connectionTimeoutMs', options.connectionTimeoutMs, 1000, 1),
    requestTimeoutMs: int('requestTimeoutMs', options.requestTimeoutMs, 5000, 1),
    backoffInitialMs: initialMs,
    backoffMaxMs: int('backoff.maxMs', options.backoff?.maxMs, Math.max(5000, initialMs), initialMs),
    flushTimeoutMs: options.flushTimeoutMs === undefined ? undefined : int('flushTimeoutMs', options.flushTimeoutMs, 0, 0),
    retry: options.retry ?? { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    compression: options.compression === undefined || options.compression === 'none' ? CompressionTypes.None : options.compression === 'gzip' ? CompressionTypes.GZIP : bad(`compression must be 'none' or 'gzip', got ${JSON.stringify(options.compression)}`),
  };
  if ((cfg.retry.retries ?? 1) < 1) bad('retry.retries must be ≥ 1 (the idempotent producer requires retries)');
  return cfg;
}

/** Safe description of an error for logs: kind and broker-side code, never message contents. */
function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; message?: unknown; type?: unknown; code?: unknown; retriable?: unknown; cause?: unknown };
  const cause = e?.cause as { name?: unknown; type?: unknown; message?: unknown } | undefined;
  return {
    name: e?.name,
    message: typeof e?.message === 'string' ? e.message.slice(0, 300) : undefined,
    type: e?.type,
    code: e?.code,
    retriable: e?.retriable,
    cause: cause ? { name: cause.name, type: cause.type, message: typeof cause.message === 'string' ? cause.message.slice(0, 300) : undefined } : undefined,
  };
}

/** A retriable kafkajs error anywhere in the cause chain (connection refused, timeouts, leader moves ...). */
function isRetriable(err: unknown): boolean {
  for (let e = err as { retriable?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.retriable === true) return true;
  }
  return false;
}

function needsNewProducer(err: unknown): boolean {
  for (let e = err as { type?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string' && PRODUCER_STATE_ERRORS.has(e.type)) return true;
    if (typeof e.message === 'string' && /producer is disconnect/i.test(e.message)) return true;
  }
  return false;
}

/** kafkajs log lines to the pino-style logger; only structural fields pass (no message data). */
function kafkaLogCreator(log: TransportLogger): logCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, broker, clientId, retryCount, retryTime, error, topic, groupId } = entry as unknown as Record<string, unknown>;
      const fields: Record<string, unknown> = { component: 'kafkajs', namespace };
      for (const [k, v] of Object.entries({ broker, clientId, retryCount, retryTime, error, topic, groupId })) if (v !== undefined) fields[k] = v;
      const msg = typeof message === 'string' ? message.slice(0, 500) : 'kafkajs';
      // Deliberate: the transport retries on top of kafkajs (from the spool), so limited retries are intended.
      // Connection failures are reported by the transport itself, rate-limited ('Kafka unavailable').
      if (/^(Limiting retries for the idempotent producer|Connection error|Failed to connect to seed broker)/.test(msg)) return log.debug(fields, msg);
      if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(fields, msg);
      else if (level === logLevel.INFO) log.info(fields, msg);
      else log.debug(fields, msg);
    };
}

export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  const cfg = config(options);
  const log = options.logger ?? silentLogger;
  // kafkajs then encodes this transport's requests with a fraction of the CPU (same bytes).
  if (!installFastProduce()) log.info({ component: 'kafkajs' }, 'not kafkajs 2.2.4: its own (slower) Produce encoder is used');
  const kafka = new Kafka({
    clientId: cfg.clientId,
    brokers: [...options.brokers],
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    retry: cfg.retry,
    logLevel: options.logger ? (options.kafkaLogLevel ?? logLevel.WARN) : logLevel.NOTHING,
    logCreator: kafkaLogCreator(log),
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
  });

  let spool: Spool | undefined;
  /** Messages accepted by send() and waiting for their batch: buffer[bufferHead], buffer[bufferHead + 1], ... */
  let buffer: Item[] = [];
  let bufferHead = 0;
  let bufferedBytes = 0;
  const bufferedCount = () => buffer.length - bufferHead;
  let lingerTimer: NodeJS.Timeout | undefined;
  let dispatching = false;
  let spoolMode = false;
  let draining: Promise<void> | undefined;
  let firstChunkHint: number | undefined;
  let flushing = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  const stop = new AbortController();
  let producer: Producer | undefined;
  let producerConnected = false;
  const waiters = new Map<() => void, (err: Error) => void>();
  /** send() calls with messages not yet settled (accepted or refused), in call order. */
  const unsettled = new Set<Group>();
  const counters = { deliveredDirect: 0, spooled: 0, drained: 0, sendFailures: 0, producerResets: 0 };

  const ready: Promise<SpoolRecovery> = Spool.open({
    dir: options.spoolDir,
    maxBytes: cfg.maxSpoolBytes,
    ...(options.spoolSegmentBytes === undefined ? {} : { segmentBytes: options.spoolSegmentBytes }),
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
        timer = setTimeout(() => waiters.get(check)?.(new FlushTimeoutError(timeoutMs, bufferedCount() + (spool?.stats().pendingRecords ?? 0))), timeoutMs);
      }
    });
  }

  function settle(items: readonly Item[], err: unknown): void {
    for (const { group } of items) {
      group.remaining--;
      if (err !== undefined && !group.failed) {
        group.failed = true;
        group.reject(err); // the caller learns at once; the rest of its messages still count below
      }
      if (group.remaining === 0) {
        unsettled.delete(group);
        if (!group.failed) group.resolve();
      }
    }
    notify();
  }

  // ---- Kafka ----

  async function connectedProducer(): Promise<Producer> {
    if (producer && producerConnected) return producer;
    producer ??= kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: FastKeyPartitioner, // kafkajs' DefaultPartitioner (murmur2, the Java client's key → partition mapping), faster
      retry: cfg.retry,
    });
    try {
      await producer.connect();
      producerConnected = true;
      return producer;
    } catch (err) {
      await dropProducer(); // never half-initialised: a producer without its id would not be idempotent
      throw err;
    }
  }

  /** Drop the producer (the next send creates a new one, with a new producer id). */
  async function dropProducer(): Promise<void> {
    const p = producer;
    producer = undefined;
    producerConnected = false;
    await p?.disconnect().catch(() => undefined);
  }

  async function sendToKafka(messages: readonly SpooledMessage[]): Promise<void> {
    const p = await connectedProducer();
    try {
      await p.send({
        topic: cfg.topic,
        acks: -1,
        timeout: cfg.requestTimeoutMs,
        compression: cfg.compression,
        messages: messages.map((m) => fastMessage(m.key, m.value, m.headers, m.acceptedAt)),
      });
    } catch (err) {
      if (needsNewProducer(err)) {
        counters.producerResets++;
        log.warn({ err: describeError(err) }, 'idempotent producer state lost; starting a new producer');
        await dropProducer();
      }
      throw err;
    }
  }

  // ---- the batching dispatcher: buffer → Kafka, or → spool ----

  const due = () =>
    bufferedCount() > 0 &&
    (spoolMode || closing || flushing > 0 || bufferedCount() >= cfg.batchSize || bufferedBytes >= cfg.maxBatchBytes || Date.now() - buffer[bufferHead]!.msg.acceptedAt >= cfg.lingerMs);

  function schedule(): void {
    if (dispatching || bufferedCount() === 0) return;
    if (due()) {
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
      void dispatchLoop();
    } else if (!lingerTimer) {
      const wait = Math.max(0, cfg.lingerMs - (Date.now() - buffer[bufferHead]!.msg.acceptedAt));
      lingerTimer = setTimeout(() => {
        lingerTimer = undefined;
        schedule();
      }, wait);
    }
  }

  function takeBatch(): Item[] {
    const start = bufferHead;
    const end = Math.min(buffer.length, start + cfg.batchSize);
    let i = start;
    let bytes = 0;
    while (i < end && (i === start || bytes + buffer[i]!.size <= cfg.maxBatchBytes)) bytes += buffer[i++]!.size;
    const batch = buffer.slice(start, i);
    bufferedBytes -= bytes;
    bufferHead = i;
    // Drop the taken part now and then (not on every batch: that would copy the rest each time).
    if (bufferHead === buffer.length) {
      buffer = [];
      bufferHead = 0;
    } else if (bufferHead >= 4096 && bufferHead * 2 >= buffer.length) {
      buffer = buffer.slice(bufferHead);
      bufferHead = 0;
    }
    return batch;
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
        const all = buffer.slice(bufferHead);
        buffer = [];
        bufferHead = 0;
        bufferedBytes = 0;
        settle(all, err);
        return;
      }
      while (due()) {
        const batch = takeBatch();
        if (spoolMode) {
          spoolBatch(batch);
          continue;
        }
        try {
          await sendToKafka(batch.map((i) => i.msg));
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

  function backoff(attempt: number): number {
    const cap = Math.min(cfg.backoffMaxMs, cfg.backoffInitialMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(cap / 2 + (Math.random() * cap) / 2); // "equal jitter"
  }

  function startDrainer(): void {
    if (draining || stop.signal.aborted) return;
    draining = drainLoop()
      .catch((err: unknown) => log.error({ err: describeError(err) }, 'the spool drainer stopped unexpectedly'))
      .finally(() => {
        draining = undefined;
        notify();
        schedule();
      });
  }

  async function drainLoop(): Promise<void> {
    const s = spool!;
    let chunk: SpoolEntry[] | undefined;
    let attempt = 0;
    let downSince: number | undefined;
    while (!stop.signal.aborted) {
      try {
        if (!chunk) {
          const hint = firstChunkHint;
          firstChunkHint = undefined;
          chunk = await s.read(hint ?? cfg.batchSize, hint === undefined ? cfg.maxBatchBytes : Number.MAX_SAFE_INTEGER);
          if (chunk.length === 0) {
            chunk = undefined;
            if (s.isEmpty) {
              spoolMode = false;
              if (downSince !== undefined) log.info({ downMs: Date.now() - downSince }, 'spool drained; sending directly again');
              return;
            }
            // Appends are queued but not yet durable: wait for them (or for close).
            await s.waitForChange(); // close() wakes this too
            continue;
          }
        }
        await sendToKafka(chunk.map((e) => decodeMessage(e.payload)));
        await s.ack(chunk.at(-1)!.seq + 1);
        counters.drained += chunk.length;
        chunk = undefined;
        attempt = 0;
        notify();
      } catch (err) {
        attempt++;
        counters.sendFailures++;
        downSince ??= Date.now();
        const delay = backoff(attempt);
        const retriable = isRetriable(err);
        const level = attempt === 1 || attempt % 10 === 0 ? (retriable ? 'warn' : 'error') : 'debug';
        log[level](
          { err: describeError(err), attempt, retryInMs: delay, spooled: s.stats().pendingRecords },
          retriable ? 'Kafka unavailable; events stay in the spool' : 'Kafka refuses the spooled events; retrying (they stay in the spool)',
        );
        await sleep(delay, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    }
  }

  // ---- the Transport ----

  function send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (closing) return Promise.reject(new Error('the Kafka transport is closed'));
    if (messages.length === 0) return Promise.resolve();
    const acceptedAt = Date.now();
    const sizes: number[] = [];
    for (const m of messages) {
      if (!Buffer.isBuffer(m.value) || typeof m.key !== 'string') return Promise.reject(new TypeError('OutgoingMessage needs a string key and a Buffer value'));
      let size = m.value.length + Buffer.byteLength(m.key);
      const headers = m.headers;
      for (const k in headers) {
        if (!Object.hasOwn(headers, k)) continue;
        const v = headers[k];
        if (typeof v !== 'string') return Promise.reject(new TypeError('OutgoingMessage header values must be strings'));
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
        const size = sizes[i]!;
        buffer.push({ msg: { key: m.key, value: m.value, headers: m.headers, acceptedAt }, size, group });
        bufferedBytes += size;
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
      throw new FlushTimeoutError(0, pending, 'the transport is closed');
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
      await waitUntil(() => bufferedCount() === 0 && !dispatching && draining === undefined, undefined);
      const left = spool!.stats().pendingRecords;
      await spool!.close();
      await dropProducer();
      // A flush() still waiting cannot complete any more: what it waits for stays in the spool.
      for (const fail of [...waiters.values()]) fail(new FlushTimeoutError(0, left, 'the transport was closed'));
    })();
    return closed;
  }

  return {
    send,
    flush,
    close,
    ready,
    stats: () => ({
      mode: spoolMode ? 'spool' : 'direct',
      buffered: bufferedCount(),
      spoolPendingRecords: spool?.stats().pendingRecords ?? 0,
      spoolDiskBytes: spool?.stats().diskBytes ?? 0,
      ...counters,
    }),
  };
}
