import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { isMarkedRetriable, retry } from '@sporbar/common/retry';
import { isConnectionError } from '@sporbar/event-store';
import type { Ingest, IncomingMessage } from './ingest.ts';
import type { IngestMetrics } from './metrics.ts';

export interface KafkaIngestOptions {
  readonly kafka: Kafka;
  readonly ingest: Ingest;
  readonly topic: string;
  readonly groupId: string;
  readonly metrics?: IngestMetrics;
  readonly log?: Logger;
  /** Messages handed to the ingest at once (default 1000). */
  readonly maxBatch?: number;
  /**
   * Partitions worked on at the same time (default 3): one partition's batch is decrypted and
   * encrypted while another's is being written, so CPU and database overlap. Order within a
   * partition (one subject's events) is kept; each partition commits its own offsets.
   */
  readonly concurrency?: number;
}

const headersOf = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  }
  return out;
};

/**
 * The ingest behind Kafka: a consumer group on the disclosures topic. Each fetched batch is made
 * durable in the event store (retried with backoff while the store is away) before its offsets are
 * committed, so a crash at any point means re-delivery, and eventId idempotency turns re-delivery
 * into exactly-once effect. Scale out by starting more instances: partitions rebalance.
 */
export async function startKafkaIngest(options: KafkaIngestOptions): Promise<{ consumer: Consumer; stop(): Promise<void> }> {
  const { kafka, ingest, topic, groupId, metrics, log } = options;
  const maxBatch = options.maxBatch ?? 1000;
  const concurrency = options.concurrency ?? 3;
  // Fetches sized to a few batches (a message larger than the limit is still returned whole, KIP-74):
  // what is fetched ahead is what the process holds in memory.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxBytesPerPartition: 1024 * 1024, maxBytes: 6 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: concurrency,
    async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload) {
      for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += maxBatch) {
        const slice = batch.messages.slice(i, i + maxBatch);
        const incoming: IncomingMessage[] = slice.map((m) => ({
          value: m.value ?? Buffer.alloc(0),
          headers: headersOf(m.headers),
          origin: `${batch.topic}/${batch.partition}/${m.offset}`,
        }));
        const started = process.hrtime.bigint();
        // Retriable failures (store or DLQ producer away) are retried for as long as it takes,
        // heartbeating meanwhile; anything else crashes the consumer, which kafkajs restarts.
        const result = await retry(() => ingest.handle(incoming), {
          maxAttempts: Number.POSITIVE_INFINITY,
          maxDelayMs: 5_000,
          // The subject-key table shares the store's database: its connection errors are transient too.
          isRetriable: (err) => isMarkedRetriable(err) || isConnectionError(err),
          onRetry: (err, attempt) => {
            log?.warn({ err: (err as Error).message, attempt, partition: batch.partition }, 'store not available, retrying');
            void heartbeat().catch(() => undefined);
          },
        });
        metrics?.appendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        metrics?.events.inc({ result: 'appended' }, result.appended);
        metrics?.events.inc({ result: 'duplicate' }, result.duplicates);
        metrics?.events.inc({ result: 'dead_lettered' }, result.deadLettered);
        const last = slice.at(-1)!;
        resolveOffset(last.offset);
        // Commit explicitly: only what is durable in the store (or the DLQ) is ever committed.
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
        metrics?.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)));
        await heartbeat();
      }
      await commitOffsetsIfNecessary();
    },
  });
  return {
    consumer,
    async stop() {
      await consumer.disconnect();
    },
  };
}
