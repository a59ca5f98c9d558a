import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { testKafkaBrokers, testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';
import { createKafkaTransport, createProducer, developmentProducerKey, formatProducerKey, type Producer } from '@sporbar/producer';
import { generateSealKeyPair } from '@sporbar/key-store';
import { ensureTopics } from '@sporbar/ingest';
import { fromPgPool, overdueRetention } from '@sporbar/projections';
import {
  createTestDatabase,
  dropTestDatabase,
  kafkaClient,
  metricsPortOf,
  metricValue,
  pipelineEnv,
  probePostgres,
  randomName,
  root,
  startService,
  statusOf,
  terminate,
  waitFor,
  type Service,
} from './support.ts';

/**
 * The overdue list drains in production: disclosures older than the register's 90-day rule for support call data go through
 * Kafka, the real ingest and the real projector (each its own process) into the retention schedule,
 * overdue; two `sporbar-retention` processes start, one becomes active (the PostgreSQL advisory lock),
 * the other stands by; the active one records RetentionExpired through Kafka, the ingest shreds the keys
 * (SubjectKeyShredded), the projector marks the rules done: the list is empty and each expiry is stored
 * once although the worker ran every second while the read model caught up. The active one is killed;
 * the standby takes over and expires what runs out next; SIGTERM stops it with exit code 0.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
if (!pgProbe.url && process.env['CI'] === 'true') throw new Error('PostgreSQL missing under CI=true');

const DAY = 86_400_000;
const RULE = 'nemkonto-support-call-data-90-days';

describe.skipIf(!brokers || !pgProbe.url)('the retention worker in production', () => {
  const env: Record<string, string> = {};
  const logs: string[] = [];
  const services: Service[] = [];
  let db: { name: string; url: string };
  let pool: pg.Pool;
  let producer: Producer;
  let spoolDir: string;

  const start = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const s = startService(name, args, { ...env, ...extra }, logs);
    services.push(s);
    return s;
  };
  const retentionEnv = (name: string) => ({
    SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-retention')),
    SPORBAR_RETENTION_INTERVAL_SECONDS: '1',
    SPORBAR_SPOOL_DIR: join(spoolDir, name),
  });
  const count = async (type: string) => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM sporbar.events WHERE event_type = $1', [type])).rows[0]!.n);
  const overdue = () => overdueRetention(fromPgPool(pool), new Date());
  /**
   * A NemKonto support call handled by the support processor, the caller's phone number among its
   * (encrypted) details: the register's 90-day rule for call data applies, the shortest of the rules
   * whose category a personal detail carries (so a data key exists, and its shredding shows).
   */
  const supportCall = (cpr: string, occurredAt: Date) =>
    producer.recordDisclosure({
      subject: { cpr },
      occurredAt,
      activity: 'nemkonto-support',
      recipient: { id: 'danish-business-authority', role: 'PROCESSOR' },
      purpose: 'nemkonto-support',
      legalBases: ['GDPR_ART6_1_E'],
      dataCategories: ['phone-number'],
      personalDetails: { phoneNumber: '+4512345678' },
    });

  beforeAll(async () => {
    db = await createTestDatabase(pgProbe.url!);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafkaClient(), [
      { topic, numPartitions: 3 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    const seal = await generateSealKeyPair();
    Object.assign(env, pipelineEnv({ topic, databaseUrl: db.url, seal }));
    spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-retention-'));
    const transport = createKafkaTransport({ ...testKafkaClientOptions()!, topic, spoolDir: join(spoolDir, 'nemkonto') });
    producer = createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret: env['SPORBAR_ROUTING_SECRET']!, producerKey: developmentProducerKey('nemkonto') });
  });

  afterAll(async () => {
    if (process.env['DEBUG_PIPELINE']) console.log(logs.join(''));
    await producer?.close();
    for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    await Promise.all(services.map((s) => s.exited));
    await pool?.end();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  });

  it('drains the overdue list, one active instance at a time, each expiry stored once', async () => {
    const old = new Date(Date.now() - 100 * DAY);
    for (const cpr of ['010190-1234', '020290-2345', '030390-3456']) await supportCall(cpr, old);
    await supportCall('040490-4567', new Date()); // its 90 days have not run out: it stays
    await producer.flush();
    start('ingest', [root('services/ingest/src/main.ts'), 'run']);
    start('projector', [root('projections/src/cli.ts'), 'run']);
    await waitFor(async () => (await overdue().catch(() => [])).length === 3, 60_000, 'three support calls overdue in the read model').catch(async (err) => {
      const events = await pool.query('SELECT event_type, metadata FROM sporbar.events').catch((e) => ({ rows: [String(e)] }));
      const schedule = await pool.query('SELECT * FROM rm_retention_schedule').catch((e) => ({ rows: [String(e)] }));
      throw new Error(`${(err as Error).message}: ${JSON.stringify(events.rows)} ${JSON.stringify(schedule.rows)}`);
    });
    expect((await overdue()).map((o) => o.ruleId)).toEqual(Array(3).fill(RULE));

    const a = start('retention-a', [root('services/retention/src/main.ts')], retentionEnv('a'));
    const baseA = `http://127.0.0.1:${await metricsPortOf(a)}`;
    await waitFor(async () => (await metricValue(baseA, 'sporbar_retention_active')) === 1, 30_000, 'retention-a active');
    const b = start('retention-b', [root('services/retention/src/main.ts')], retentionEnv('b'));
    const baseB = `http://127.0.0.1:${await metricsPortOf(b)}`;
    for (const base of [baseA, baseB]) {
      expect(await statusOf(`${base}/health`)).toBe(200);
      expect(await statusOf(`${base}/ready`)).toBe(200);
    }

    await waitFor(async () => (await overdue()).length === 0, 120_000, 'the overdue list empty');
    await waitFor(async () => (await count('SubjectKeyShredded')) === 3, 60_000, 'three keys shredded');
    expect(await count('RetentionExpired')).toBe(3);
    // The standby never ran (it polls the lock every second meanwhile); the active one recorded each expiry once.
    expect(await metricValue(baseB, 'sporbar_retention_active')).toBe(0);
    expect(await metricValue(baseB, 'sporbar_retention_runs_total')).toBe(0);
    expect(await metricValue(baseA, 'sporbar_retention_expired_total')).toBe(3);
    expect(await metricValue(baseA, 'sporbar_retention_overdue')).toBe(0);
    expect(await metricValue(baseA, 'sporbar_retention_failures_total')).toBe(0);
    expect(await metricValue(baseA, 'sporbar_retention_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    const { rows } = await pool.query<{ done_by: string | null; n: number }>('SELECT done_by, count(*)::int AS n FROM rm_retention_schedule GROUP BY done_by ORDER BY done_by');
    expect(rows).toEqual([
      { done_by: 'RetentionExpired', n: 3 },
      { done_by: null, n: 1 },
    ]);

    // The active one dies without a word: its session ends, the standby takes the lock and runs.
    a.child.kill('SIGKILL');
    await a.exited;
    await waitFor(async () => (await metricValue(baseB, 'sporbar_retention_active')) === 1, 30_000, 'retention-b took over');
    await supportCall('050590-5678', old);
    await producer.flush();
    await waitFor(async () => (await count('RetentionExpired')) === 4 && (await overdue()).length === 0, 120_000, 'the next expiry recorded by retention-b');
    await waitFor(async () => (await count('SubjectKeyShredded')) === 4, 60_000, 'its key shredded');
    expect(await metricValue(baseB, 'sporbar_retention_expired_total')).toBe(1);

    const stopped = await terminate(b);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(20_000);
  }, 400_000);
});
