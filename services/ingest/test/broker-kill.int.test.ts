import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { checkPrerequisites, kafkaClientOptions, kafkaJarsPresent, startKafkaBroker, type KafkaBroker } from '@sporbar/kafka-infra';
import { testKafkaClient } from '@sporbar/kafka-infra/vitest';
import { createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { developmentProducerKey, createKafkaTransport, createProducer } from '@sporbar/producer';
import { createCodec, register } from '@sporbar/schemas';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { developmentProducerRegistry, createPseudonymiser, createSubjectKeyStore, createSubjectOpener, generateMasterKeySecret, generateSealKeyPair, parseMasterKey, migrateSubjectKeys } from '@sporbar/key-store';
import { createIngest, createKafkaDeadLetterSink, ensureTopics, startKafkaIngest } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, waitFor } from './support.ts';

/**
 * 100,000 events produced through the SDK while the broker is SIGKILLed and restarted mid-stream,
 * consumed by the ingest into PostgreSQL: the store holds exactly 100,000 distinct events.
 */
const pre = checkPrerequisites();
const canStartBroker = pre.java && (pre.maven || kafkaJarsPresent());
const pgProbe = await probePostgres();
if (!canStartBroker && process.env['CI'] === 'true') throw new Error('CI=true but Java/Maven for the Kafka broker is missing');
// Its own broker (it is killed), secured like the suite's when that one is (CI: always).
const secure = testKafkaClient()?.sasl !== undefined;
const TOTAL = Number(process.env['SPORBAR_FAULT_EVENTS'] ?? 100_000);

describe.skipIf(!canStartBroker || !pgProbe.url)('broker SIGKILLed mid-stream', () => {
  let broker: KafkaBroker | undefined;
  let db: { name: string; url: string } | undefined;
  let store: EventStore | undefined;
  let pool: pg.Pool | undefined;
  const spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-kill-'));
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await broker?.stop().catch(() => undefined);
    if (broker) rmSync(broker.runDir, { recursive: true, force: true });
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    rmSync(spoolDir, { recursive: true, force: true });
  }, 60_000);

  it(`${TOTAL.toLocaleString('en')} events, broker killed and restarted: exactly ${TOTAL.toLocaleString('en')} stored, 0 lost, 0 duplicated`, async () => {
    broker = await startKafkaBroker({ port: 0, name: `kill-${process.pid}`, fresh: true, secure });
    const kafka = kafkaClient(kafkaClientOptions(broker));
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 6 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    db = await createTestDatabase(pgProbe.url!);
    store = await createPostgresEventStore({ connectionString: db.url });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const keys = createSubjectKeyStore({ db: pool, masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
    await migrateSubjectKeys(pgPoolSqlClient(pool));
    const seal = await generateSealKeyPair();
    const dlqProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await dlqProducer.connect();
    const ingest = createIngest({
      producers: developmentProducerRegistry(),
      codec: createCodec(),
      store,
      register,
      keys,
      opener: createSubjectOpener(seal.privateKey),
      pseudonymiser: createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') }),
      deadLetters: createKafkaDeadLetterSink(dlqProducer, `${topic}.dlq`),
    });
    const running = await startKafkaIngest({ kafka, ingest, topic, groupId: randomName('ingest') });
    const producer = createProducer({
      transport: createKafkaTransport({ ...kafkaClientOptions(broker), topic, spoolDir, backoff: { initialMs: 200, maxMs: 2000 } }),
      sealPublicKey: seal.publicKey,
      routingSecret: randomBytes(32).toString('base64url'),
      producerKey: developmentProducerKey('mitid-core'),
    });
    const flows = register.activities.find((a) => a.id === 'mitid-core')!.flows;
    const ids = new Set<string>();
    let killed = false;
    for (let i = 0; i < TOTAL; i += 1000) {
      if (!killed && i >= TOTAL * 0.3) {
        await broker.kill(); // mid-stream: batches in flight, the ingest consuming
        killed = true;
        setTimeout(() => void broker!.restart(), 5000);
      }
      const batch = [];
      for (let j = i; j < Math.min(TOTAL, i + 1000); j++) {
        const f = flows[j % flows.length]!;
        batch.push(
          producer.recordDisclosure({
            subject: { cpr: `${String(1 + (j % 28)).padStart(2, '0')}0377-${String(j % 5000).padStart(4, '0')}` },
            activity: 'mitid-core',
            recipient: { id: f.recipientId, role: f.roles[0] },
            purpose: f.purposeIds[0]!,
            legalBases: [...f.legalBases],
            dataCategories: [...f.categoryIds],
          }),
        );
      }
      for (const r of await Promise.all(batch)) ids.add(r.eventId);
    }
    expect(ids.size).toBe(TOTAL);
    await producer.flush();
    const count = async () => {
      const { rows } = await pool!.query("SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM sporbar.events WHERE event_type = 'DisclosureRecorded'");
      return rows[0] as { total: number; distinct: number };
    };
    await waitFor(async () => (await count()).total >= TOTAL, 300_000, `${TOTAL} stored`);
    expect(await count()).toEqual({ total: TOTAL, distinct: TOTAL });
    const { rows } = await pool.query('SELECT event_id FROM sporbar.events');
    expect(rows.every((r: { event_id: string }) => ids.has(r.event_id))).toBe(true);
    await running.stop();
    await dlqProducer.disconnect();
    await producer.close();
  }, 900_000);
});
