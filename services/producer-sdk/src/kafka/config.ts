/** The Kafka transport's options, their defaults and their validation (pure: options in, config or SPB_ERR_CONFIG out). */
import { CompressionTypes, type KafkaConfig, type logLevel, type RetryOptions } from 'kafkajs';
import { SporbarError } from '@sporbar/common/errors';
import type { TransportLogger } from '../logger.ts';
import { DEFAULT_MAX_SPOOL_BYTES } from '../spool/spool.ts';

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
  /**
   * Encode this transport's Produce requests with kafka-fast-produce.ts (the same bytes as kafkajs'
   * encoder at a fraction of the CPU; only on kafkajs 2.2.4). Default true; false uses kafkajs' own
   * encoder and partitioner (same partitions, same delivery).
   */
  readonly fastEncoder?: boolean;
  /** Where the transport logs (pino fits). Default: nothing is logged. */
  readonly logger?: TransportLogger;
  /** kafkajs' own log level, routed to `logger`. Default WARN. */
  readonly kafkaLogLevel?: logLevel;
  readonly ssl?: KafkaConfig['ssl'];
  readonly sasl?: KafkaConfig['sasl'];
}

export const DEFAULT_TOPIC = 'sporbar.disclosures';

export interface TransportConfig {
  readonly brokers: readonly string[];
  readonly spoolDir: string;
  readonly spoolSegmentBytes: number | undefined;
  readonly topic: string;
  readonly clientId: string;
  readonly lingerMs: number;
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly maxMessageBytes: number;
  readonly maxSpoolBytes: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly flushTimeoutMs: number | undefined;
  readonly retry: RetryOptions;
  readonly compression: CompressionTypes;
  readonly fastEncoder: boolean;
}

/** Validates the options and fills in the defaults; anything wrong is an SPB_ERR_CONFIG naming it. */
export function transportConfig(options: KafkaTransportOptions): TransportConfig {
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
  if (options.fastEncoder !== undefined && typeof options.fastEncoder !== 'boolean') bad('fastEncoder must be true or false');
  const initialMs = int('backoff.initialMs', options.backoff?.initialMs, 100, 1);
  const cfg: TransportConfig = {
    brokers: [...options.brokers],
    spoolDir: options.spoolDir,
    spoolSegmentBytes: options.spoolSegmentBytes,
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
    compression:
      options.compression === undefined || options.compression === 'none'
        ? CompressionTypes.None
        : options.compression === 'gzip'
          ? CompressionTypes.GZIP
          : bad(`compression must be 'none' or 'gzip', got ${JSON.stringify(options.compression)}`),
    fastEncoder: options.fastEncoder ?? true,
  };
  if ((cfg.retry.retries ?? 1) < 1) bad('retry.retries must be ≥ 1 (the idempotent producer requires retries)');
  return cfg;
}
