import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer as KafkaProducer } from 'kafkajs';
import { testKafkaBrokers } from '@sporbar/kafka-infra/vitest';
import { createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage } from '@sporbar/producer';
import { createCodec, createSchemaCatalogue, loadSchemaCatalogue, register, schemaVersion, type Codec } from '@sporbar/schemas';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { developmentProducerRegistry, createPseudonymiser, createSubjectOpener, generateSealKeyPair, createSubjectKeyStore, generateMasterKeySecret, parseMasterKey, type SubjectKeyStore, migrateSubjectKeys } from '@sporbar/key-store';
import pg from 'pg';
import {
  DLQ_HEADER_REASON,
  DLQ_HEADER_REASON_CODE,
  createIngest,
  createIngestMetrics,
  createKafkaDeadLetterSink,
  ensureTopics,
  redriveDeadLetters,
  startKafkaIngest,
} from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, signedBy, waitFor } from './support.ts';

const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');

describe.skipIf(!brokers || !pgProbe.url)('ingest on a real Kafka broker and PostgreSQL', () => {
  let kafka: Kafka;
  let db: { name: string; url: string };
  let store: EventStore;
  let sendRaw: KafkaProducer;
  let keys: Awaited<ReturnType<typeof generateSealKeyPair>>;
  let pool: pg.Pool;
  let subjectKeys: SubjectKeyStore;
  const pseudonymKey = { id: 'k1', secret: randomBytes(32).toString('base64url') };

  beforeAll(async () => {
    kafka = kafkaClient();
    db = await createTestDatabase(pgProbe.url!);
    store = await createPostgresEventStore({ connectionString: db.url });
    sendRaw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await sendRaw.connect();
    keys = await generateSealKeyPair();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    subjectKeys = createSubjectKeyStore({ db: pool, masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
    await migrateSubjectKeys(pgPoolSqlClient(pool));
  });
  afterAll(async () => {
    await pool?.end();
    await sendRaw?.disconnect();
    await store?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
  });

  /** Real SDK messages, captured in process, then put on Kafka as any producer would. */
  async function sdkMessages(n: number, codec?: Codec): Promise<OutgoingMessage[]> {
    const out: OutgoingMessage[] = [];
    const producer = createProducer({
      transport: createInProcessTransport(async (m) => void out.push(...m)),
      sealPublicKey: keys.publicKey,
      routingSecret: randomBytes(32).toString('base64url'),
      producerKey: developmentProducerKey('nemkonto'),
      ...(codec ? { codec } : {}),
    });
    const flow = register.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
    for (let i = 0; i < n; i++) {
      await producer.recordDisclosure({
        subject: { cpr: `0101${String(50 + (i % 40)).padStart(2, '0')}-${String(i % 9999).padStart(4, '0')}` },
        activity: 'nemkonto-register',
        recipient: { id: flow.recipientId, role: flow.roles[0] },
        purpose: flow.purposeIds[0]!,
        legalBases: [...flow.legalBases],
        dataCategories: [...flow.categoryIds],
      });
    }
    return out;
  }

  async function newTopic(): Promise<string> {
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 6 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    return topic;
  }

  async function run(topic: string, codec: Codec = createCodec()) {
    const dlq = `${topic}.dlq`;
    const metrics = createIngestMetrics();
    const ingest = createIngest({
      producers: developmentProducerRegistry(),
      codec,
      store,
      register,
      opener: createSubjectOpener(keys.privateKey),
      pseudonymiser: createPseudonymiser(pseudonymKey),
      keys: subjectKeys,
      deadLetters: createKafkaDeadLetterSink(sendRaw, dlq),
    });
    const running = await startKafkaIngest({ kafka, ingest, topic, groupId: randomName('ingest'), metrics });
    return { dlq, metrics, stop: () => running.stop() };
  }

  const storedCount = async () => Number(await store.headPosition());
  const send = (topic: string, messages: Array<{ key?: string; value: Buffer; headers?: Record<string, string> }>) =>
    sendRaw.send({ topic, acks: -1, messages });

  it('stores every valid event exactly once and dead-letters every bad one with its reason', async () => {
    const topic = await newTopic();
    const before = await storedCount();
    const valid = await sdkMessages(2000);
    const bad: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(valid[i]!.value);
      if (i % 3 === 0) bad.push(randomBytes(1 + (i % 200))); // noise
      else if (i % 3 === 1) bad.push(b.subarray(0, 10 + (i % 30))); // truncated
      else bad.push(Buffer.concat([Buffer.from([0xc3, 0x01]), randomBytes(8), b.subarray(10)])); // unknown fingerprint
    }
    const mixed = [...valid.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })), ...bad.map((value) => ({ value, headers: signedBy('nemkonto', value) }))];
    mixed.sort(() => Math.random() - 0.5);
    for (let i = 0; i < mixed.length; i += 500) await send(topic, mixed.slice(i, i + 500));
    // Re-delivery of the same valid messages (a producer retry): stored once.
    await send(topic, valid.slice(0, 100).map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })));

    const { dlq, metrics, stop } = await run(topic);
    try {
      await waitFor(async () => (await storedCount()) - before >= 2000, 120_000, '2000 stored');
      const letters = await readTopic(kafka, dlq);
      expect(letters).toHaveLength(300);
      const codes = letters.map((l) => l.headers![DLQ_HEADER_REASON_CODE]!.toString());
      expect(new Set(codes)).toEqual(new Set(['SPB_ERR_BAD_MAGIC', 'SPB_ERR_TRUNCATED', 'SPB_ERR_UNKNOWN_FINGERPRINT']));
      expect(letters.every((l) => l.headers![DLQ_HEADER_REASON]!.toString().length > 10)).toBe(true);
      expect(new Set(letters.map((l) => l.value!.toString('hex')))).toEqual(new Set(bad.map((b) => b.toString('hex'))));
      await waitFor(async () => (await metrics.registry.getSingleMetricAsString('sporbar_ingest_events_total')).includes('result="duplicate"} 100'), 30_000, 'duplicates counted');
      expect(await storedCount()).toBe(before + 2000);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/sporbar_ingest_events_total\{result="appended"\} 2000/);
      expect(text).toMatch(/sporbar_ingest_events_total\{result="dead_lettered"\} 300/);
      expect(text).toMatch(/sporbar_ingest_append_seconds_count \d+/);
    } finally {
      await stop();
    }
  });

  it('re-drives dead letters after a fix: events of a schema version deployed later', async () => {
    const topic = await newTopic();
    // A producer already writes DisclosureRecorded v3; the ingest does not know v3 yet.
    const current = loadSchemaCatalogue();
    const v2 = current.current('DisclosureRecorded');
    const schema = structuredClone(v2.schema) as { fields: unknown[] };
    schema.fields.push({ name: 'channel', type: ['null', 'string'], default: null });
    const withV3 = createSchemaCatalogue([...current.eventTypes.flatMap((t) => current.versions(t)), schemaVersion('DisclosureRecorded', 3, schema)]);
    const newer = await sdkMessages(50, createCodec({ catalogue: withV3 }));
    await send(topic, newer.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })));
    const before = await storedCount();

    const old = await run(topic);
    await waitFor(async () => (await readTopic(kafka, old.dlq)).length >= 50, 60_000, '50 dead letters');
    expect(await storedCount()).toBe(before);
    await old.stop();

    // The fix is deployed (an ingest that knows v3); re-drive puts the letters back on the topic.
    const fixed = await run(topic, createCodec({ catalogue: withV3 }));
    try {
      const result = await redriveDeadLetters({ kafka, topic, dlqTopic: fixed.dlq, reasonCode: 'SPB_ERR_UNKNOWN_FINGERPRINT' });
      expect(result).toEqual({ redriven: 50, skipped: 0 });
      await waitFor(async () => (await storedCount()) === before + 50, 60_000, '50 re-driven events stored');
      // A second re-drive finds nothing new.
      expect(await redriveDeadLetters({ kafka, topic, dlqTopic: fixed.dlq })).toEqual({ redriven: 0, skipped: 0 });
    } finally {
      await fixed.stop();
    }
  });
});
