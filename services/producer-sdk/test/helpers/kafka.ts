import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaClientOptions, type KafkaClientTarget } from '../../../../infra/kafka/src/index.ts';

/**
 * The broker these tests start: secured (TLS, SCRAM, ACLs) like the suite's when the run is secured
 * (KAFKA_SECURE=1, or the KAFKA_* of a secured broker, as .ci/run exports), else plaintext.
 */
export const secureTestBroker = /^(1|true|yes)$/i.test(process.env['KAFKA_SECURE']?.trim() ?? '') || Boolean(process.env['KAFKA_SASL_USERNAME']);

/** Poll `cond` until it is true (or throw after timeoutMs). For synchronisation, instead of fixed sleeps. */
export async function waitFor(cond: () => boolean | Promise<boolean>, opts: { timeoutMs: number; what: string; intervalMs?: number }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for: ${opts.what}`);
    await sleep(opts.intervalMs ?? 50);
  }
}

export async function createTopic(target: KafkaClientTarget, partitions = 6): Promise<string> {
  const topic = `sporbar.test.${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ clientId: 'test-admin', ...kafkaClientOptions(target), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export interface Consumed {
  readonly partition: number;
  readonly key: string;
  readonly eventId: string;
  readonly i: number;
  readonly s: number;
}

/** Every record in the topic (its high watermarks say how many), consumed from the beginning by a fresh group. */
export async function consumeAll(target: KafkaClientTarget, topic: string, timeoutMs = 60_000): Promise<Consumed[]> {
  const kafka = new Kafka({ clientId: 'test-consumer', ...kafkaClientOptions(target), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const got: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          let body = { i: -1, s: -1 }; // not a test message (e.g. a real Avro event)
          try {
            body = JSON.parse(m.value!.toString()) as { i: number; s: number };
          } catch {
            // keep -1
          }
          got.push({ partition: batch.partition, key: m.key!.toString(), eventId: m.headers!['sporbar-event-id']!.toString(), i: body.i, s: body.s });
        }
      },
    });
    await waitFor(() => got.length >= total, { timeoutMs, what: `consuming ${total} records of ${topic} (have ${got.length})` });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/**
 * Check what came back: each id once (duplicates counted), and per key the first occurrences in
 * message order 0, 1, 2, ... (a duplicate is a repeat of something already seen, so it does not
 * count against the order).
 */
export function analyse(consumed: readonly Consumed[]): { unique: number; duplicates: number; orderViolations: number; ids: Set<number>; partitionsPerKey: number } {
  const ids = new Set<number>();
  const lastSeq = new Map<string, number>();
  const partitionOf = new Map<string, Set<number>>();
  let duplicates = 0;
  let orderViolations = 0;
  for (const c of consumed) {
    const parts = partitionOf.get(c.key) ?? new Set<number>();
    parts.add(c.partition);
    partitionOf.set(c.key, parts);
    if (ids.has(c.i)) {
      duplicates++;
      continue;
    }
    ids.add(c.i);
    if (c.s !== (lastSeq.get(c.key) ?? -1) + 1) orderViolations++;
    lastSeq.set(c.key, c.s);
  }
  const partitionsPerKey = Math.max(0, ...[...partitionOf.values()].map((s) => s.size));
  return { unique: ids.size, duplicates, orderViolations, ids, partitionsPerKey };
}
