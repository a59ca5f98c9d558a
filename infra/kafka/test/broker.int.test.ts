import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from '../src/index.ts';
import { canRunBroker } from './prereqs.ts';

const TOPIC = 'broker-int-test';
const N = 1000;

interface Received {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Consume from `groupId` until `expected` messages arrived; optionally commit what was read. */
async function consume(kafka: Kafka, groupId: string, expected: number): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out: got ${received.length}/${expected} messages for ${groupId}`)),
        60_000,
      );
      consumer
        .run({
          autoCommit: true,
          eachMessage: async ({ partition, message }) => {
            received.push({
              partition,
              offset: Number(message.offset),
              key: message.key!.toString(),
              value: message.value!.toString(),
            });
            if (received.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect(); // commits the offsets resolved so far
  }
  return received;
}

function messages(from: number, to: number) {
  return Array.from({ length: to - from }, (_, j) => {
    const i = from + j;
    return { key: `k-${i}`, value: JSON.stringify({ i, payload: 'x'.repeat(100) }) };
  });
}

function expectExactly(received: Received[], from: number, to: number) {
  const ids = received.map((r) => (JSON.parse(r.value) as { i: number }).i).sort((a, b) => a - b);
  expect(ids).toEqual(Array.from({ length: to - from }, (_, j) => from + j));
  // per partition, offsets are strictly increasing (no duplicates, order kept)
  const byPartition = new Map<number, number[]>();
  for (const r of received) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
  for (const offsets of byPartition.values()) {
    for (let k = 1; k < offsets.length; k++) expect(offsets[k]).toBeGreaterThan(offsets[k - 1]!);
  }
}

async function highWatermarks(admin: Admin): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

describe.skipIf(!canRunBroker())('single-node KRaft broker from Maven Central jars', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    const t0 = Date.now();
    broker = await startKafkaBroker({ port: 0, name: `broker-int-${process.pid}`, fresh: true });
    console.log(`broker ${broker.brokers.join(',')} healthy in ${Date.now() - t0} ms`);
    kafka = new Kafka({
      clientId: 'broker-int-test',
      brokers: broker.brokers,
      logLevel: logLevel.NOTHING, // the SIGKILL below makes kafkajs log (expected) connection errors
      retry: { initialRetryTime: 200, retries: 20, maxRetryTime: 2_000 },
    });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    if (broker) {
      await broker.stop();
      expect(fs.existsSync(`${broker.runDir}/broker.pid`)).toBe(false);
      if (process.env.KAFKA_KEEP_RUN_DIR !== '1') fs.rmSync(broker.runDir, { recursive: true, force: true });
    }
  });

  it('produces and consumes 1000 messages, survives SIGKILL + restart with the data intact', async () => {
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true })).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    expect(meta.topics[0]!.partitions).toHaveLength(3);

    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let from = 0; from < N; from += 100) {
      await producer.send({ topic: TOPIC, acks: -1, compression: CompressionTypes.None, messages: messages(from, from + 100) });
    }
    expect(await highWatermarks(admin)).toBe(N);

    const first = await consume(kafka, 'group-a', N);
    expectExactly(first, 0, N);
    expect(new Set(first.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    const committedBefore = await admin.fetchOffsets({ groupId: 'group-a', topics: [TOPIC] });
    const committedSum = committedBefore[0]!.partitions.reduce((s, p) => s + Number(p.offset), 0);
    expect(committedSum).toBe(N);

    // Hard crash: no controlled shutdown, no flush. The producer and admin stay connected.
    const pidBefore = broker.pid;
    await broker.kill();
    expect(() => process.kill(pidBefore, 0)).toThrow();

    const t0 = Date.now();
    await broker.restart();
    console.log(`restarted after SIGKILL, healthy in ${Date.now() - t0} ms`);
    expect(broker.pid).not.toBe(pidBefore);

    // Acknowledged records and committed group offsets survived the crash.
    expect(await highWatermarks(admin)).toBe(N);
    const committedAfter = await admin.fetchOffsets({ groupId: 'group-a', topics: [TOPIC] });
    expect(committedAfter).toEqual(committedBefore);
    const replay = await consume(kafka, 'group-b', N);
    expectExactly(replay, 0, N);
    expect(replay.map((r) => r.value).sort()).toEqual(first.map((r) => r.value).sort());

    // The same idempotent producer carries on after the broker came back...
    await producer.send({ topic: TOPIC, acks: -1, messages: messages(N, N + 100) });
    expect(await highWatermarks(admin)).toBe(N + 100);
    // ...and group-a resumes from its committed offsets: only the new messages.
    const resumed = await consume(kafka, 'group-a', 100);
    expectExactly(resumed, N, N + 100);
  });
});
