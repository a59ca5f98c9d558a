/**
 * The kafkajs side of the transport: one idempotent producer (acks=all, one request in flight),
 * connected on first use and replaced when its producer id/sequence state is lost; kafkajs' log lines
 * routed to the transport's logger with structural fields only.
 *
 * With `fastEncoder` the requests are encoded by kafka-fast-produce.ts (same bytes, a fraction of the
 * CPU) and keys partitioned by its 32-bit murmur2; without, kafkajs' own encoder and DefaultPartitioner
 * (the same key → partition mapping) do it.
 */
import { Kafka, logLevel, Partitioners, type logCreator, type Message, type Producer } from 'kafkajs';
import { FastKeyPartitioner, fastMessage, installFastProduce } from '../kafka-fast-produce.ts';
import type { TransportLogger } from '../logger.ts';
import type { SpooledMessage } from '../spool/message-codec.ts';
import type { KafkaTransportOptions, TransportConfig } from './config.ts';

export interface KafkaSender {
  /** Sends one batch to the topic; rejects with kafkajs' error if Kafka did not acknowledge all of it. */
  send(messages: readonly SpooledMessage[]): Promise<void>;
  /** Disconnects the producer; the next send() connects a new one (with a new producer id). */
  disconnect(): Promise<void>;
  /** Whether this sender's requests go through kafka-fast-produce.ts. */
  readonly fastEncoder: boolean;
}

/** Errors after which the idempotent producer's id/sequence state is unusable: start a new producer. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/**
 * Safe description of an error for logs: kind and broker-side code, never message contents. kafkajs'
 * error type is `errorType`: pino's err serializer would overwrite a `type` with the object's class.
 */
export function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; message?: unknown; type?: unknown; code?: unknown; retriable?: unknown; cause?: unknown };
  const cause = e?.cause as { name?: unknown; type?: unknown; message?: unknown } | undefined;
  return {
    name: e?.name,
    message: typeof e?.message === 'string' ? e.message.slice(0, 300) : undefined,
    errorType: e?.type,
    code: e?.code,
    retriable: e?.retriable,
    cause: cause ? { name: cause.name, errorType: cause.type, message: typeof cause.message === 'string' ? cause.message.slice(0, 300) : undefined } : undefined,
  };
}

/** A retriable kafkajs error anywhere in the cause chain (connection refused, timeouts, leader moves ...). */
export function isRetriable(err: unknown): boolean {
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

/** A kafkajs message as kafkajs' own encoder takes it (timestamp: milliseconds, as a string). */
const plainMessage = (m: SpooledMessage): Message => ({ key: m.key, value: m.value, headers: { ...m.headers }, timestamp: String(Math.trunc(m.acceptedAt)) });

export function createKafkaSender(
  cfg: TransportConfig,
  options: Pick<KafkaTransportOptions, 'ssl' | 'sasl'> & { readonly log: TransportLogger; readonly kafkaLogLevel: logLevel; readonly onProducerReset?: () => void },
): KafkaSender {
  const { log } = options;
  // kafkajs then encodes this transport's requests with a fraction of the CPU (same bytes).
  const fast = cfg.fastEncoder && installFastProduce();
  if (cfg.fastEncoder && !fast) log.info({ component: 'kafkajs' }, 'not kafkajs 2.2.4: its own (slower) Produce encoder is used');
  const toKafka = fast ? (m: SpooledMessage) => fastMessage(m.key, m.value, m.headers, m.acceptedAt) : plainMessage;
  const kafka = new Kafka({
    clientId: cfg.clientId,
    brokers: [...cfg.brokers],
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    retry: cfg.retry,
    logLevel: options.kafkaLogLevel,
    logCreator: kafkaLogCreator(log),
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
  });

  let producer: Producer | undefined;
  let connected = false;

  async function connectedProducer(): Promise<Producer> {
    if (producer && connected) return producer;
    producer ??= kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs' DefaultPartitioner (murmur2, the Java client's key → partition mapping), or the same, faster
      createPartitioner: fast ? FastKeyPartitioner : Partitioners.DefaultPartitioner,
      retry: cfg.retry,
    });
    try {
      await producer.connect();
      connected = true;
      return producer;
    } catch (err) {
      await disconnect(); // never half-initialised: a producer without its id would not be idempotent
      throw err;
    }
  }

  async function disconnect(): Promise<void> {
    const p = producer;
    producer = undefined;
    connected = false;
    await p?.disconnect().catch(() => undefined);
  }

  return {
    fastEncoder: fast,
    disconnect,
    async send(messages) {
      const p = await connectedProducer();
      try {
        await p.send({ topic: cfg.topic, acks: -1, timeout: cfg.requestTimeoutMs, compression: cfg.compression, messages: messages.map(toKafka) });
      } catch (err) {
        if (needsNewProducer(err)) {
          options.onProducerReset?.();
          log.warn({ err: describeError(err) }, 'idempotent producer state lost; starting a new producer');
          await disconnect();
        }
        throw err;
      }
    },
  };
}
