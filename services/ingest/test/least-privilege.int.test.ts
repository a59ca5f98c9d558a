import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLevel, Kafka } from 'kafkajs';
import pg from 'pg';
import {
  checkPrerequisites,
  kafkaClientEnv,
  kafkaClientOptions,
  kafkaJarsPresent,
  KAFKA_CLIENT_ENV_NAMES,
  provisionKafkaPrincipals,
  randomPassword,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaClientSettings,
  type KafkaPrincipalSpec,
} from '@sporbar/kafka-infra';
import { testKafkaClient } from '@sporbar/kafka-infra/vitest';
import { createKafkaTransport, createProducer, developmentProducerKey } from '@sporbar/producer';
import { register } from '@sporbar/schemas';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE, generateSealKeyPair } from '@sporbar/key-store';
import { ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, waitFor } from './support.ts';

/**
 * Least privilege, end to end: the real ingest (`sporbar-ingest run`, a process) logs in as
 * `sporbar-ingest` — Read on the topic, Read on its group, Write on the DLQ, nothing else — and a
 * producer as `producer-mitid` — Write on the topic, nothing else. Both are provisioned with
 * provisionKafkaPrincipals on the suite's secured broker (or, when the suite runs on a plaintext one,
 * on a secured broker started here). Events go producer → Kafka → ingest → PostgreSQL and a bad one to
 * the DLQ, and the producer principal can neither read the topic nor write the DLQ.
 */
const pre = checkPrerequisites();
const pgProbe = await probePostgres();
const suite = testKafkaClient();
const suiteSecured = suite?.sasl !== undefined;
const canRun = suiteSecured || (pre.java && (pre.maven || kafkaJarsPresent()));
if (!canRun && process.env['CI'] === 'true') throw new Error('CI=true but no secured Kafka broker can be had (no Java/Maven)');
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const EVENTS = 300;

describe.skipIf(!canRun || !pgProbe.url)('least privilege on the secured broker: the ingest and a producer as their own principals', () => {
  let own: KafkaBroker | undefined;
  let target: KafkaClientSettings;
  let admin: Kafka;
  let db: { name: string; url: string };
  const topic = randomName('sporbar.disclosures');
  const dlq = `${topic}.dlq`;
  const groupId = randomName('sporbar-ingest');
  const ingestUser = { user: 'sporbar-ingest', password: randomPassword() };
  const producerUser = { user: 'producer-mitid', password: randomPassword() };
  const children: ChildProcess[] = [];
  const spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-lp-spool-'));
  let stderr = '';

  const principals: KafkaPrincipalSpec[] = [
    {
      ...ingestUser,
      allow: [
        { topic, ops: ['Read'] },
        { group: groupId, ops: ['Read'] },
        { topic: dlq, ops: ['Write'] },
      ],
    },
    { ...producerUser, allow: [{ topic, ops: ['Write'] }] },
  ];

  const as = (who: { user: string; password: string }, retries = 2) =>
    new Kafka({ clientId: randomName(who.user), ...kafkaClientOptions(target, who), logLevel: logLevel.NOTHING, retry: { retries } });

  beforeAll(async () => {
    if (suiteSecured) target = suite!;
    else {
      own = await startKafkaBroker({ port: 0, name: `least-priv-${process.pid}`, fresh: true, secure: true });
      target = own.clientSettings;
    }
    admin = kafkaClient(kafkaClientOptions(target));
    await ensureTopics(admin, [
      { topic, numPartitions: 3 },
      { topic: dlq, numPartitions: 1 },
    ]);
    const t0 = Date.now();
    await provisionKafkaPrincipals(target, principals);
    console.log(`[least-privilege] 2 principals provisioned in ${Date.now() - t0} ms on ${suiteSecured ? "the suite's" : 'an own'} secured broker`);
    db = await createTestDatabase(pgProbe.url!);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (own) {
      await own.stop();
      rmSync(own.runDir, { recursive: true, force: true });
    }
    rmSync(spoolDir, { recursive: true, force: true });
  }, 60_000);

  const stored = async (): Promise<{ total: number; distinct: number }> => {
    const client = new pg.Client({ connectionString: db.url });
    try {
      await client.connect();
      // The events sent; not the ingest's own RegisterPublished of the notice versions (appended at each start, stored once).
      const { rows } = await client.query("SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM sporbar.events WHERE event_type <> 'RegisterPublished'");
      return rows[0] as { total: number; distinct: number };
    } catch {
      return { total: -1, distinct: -1 }; // not migrated yet
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it(`the real ingest as sporbar-ingest stores ${EVENTS} events sent as producer-mitid, and dead-letters a bad one`, async () => {
    const seal = await generateSealKeyPair();
    // The ingest's environment: the suite's KAFKA_* replaced by the ingest principal's.
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of KAFKA_CLIENT_ENV_NAMES) delete env[name];
    Object.assign(env, kafkaClientEnv({ ...target, sasl: { mechanism: 'scram-sha-512', username: ingestUser.user, password: ingestUser.password } }), {
      SPORBAR_TOPIC: topic,
      SPORBAR_GROUP_ID: groupId,
      SPORBAR_PARTITIONS: '3',
      SPORBAR_STORE: 'postgres',
      DATABASE_URL: db.url,
      SPORBAR_SEAL_PRIVATE_KEY: seal.privateKey,
      SPORBAR_PSEUDONYM_KEY: randomBytes(32).toString('base64url'),
      SPORBAR_MASTER_KEY: randomBytes(32).toString('base64url'),
      // The development producer registry, which a production ingest refuses: SPORBAR_ENV=development.
      SPORBAR_ENV: 'development',
      SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    });
    expect(env['KAFKA_SASL_USERNAME']).toBe('sporbar-ingest');
    expect(env['KAFKA_CA_FILE']).toBeTruthy();
    const ingest = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run'], { cwd: PACKAGE_DIR, env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(ingest);
    ingest.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));

    const producer = createProducer({
      transport: createKafkaTransport({ ...kafkaClientOptions(target, producerUser), clientId: 'producer-mitid', topic, spoolDir }),
      sealPublicKey: seal.publicKey,
      routingSecret: randomBytes(32).toString('base64url'),
      producerKey: developmentProducerKey('mitid-core'),
    });
    const flows = register.activities.find((a) => a.id === 'mitid-core')!.flows;
    try {
      for (let i = 0; i < EVENTS; i++) {
        const f = flows[i % flows.length]!;
        await producer.recordDisclosure({
          subject: { cpr: `${String(1 + (i % 28)).padStart(2, '0')}0690-${String(i).padStart(4, '0')}` },
          activity: 'mitid-core',
          recipient: { id: f.recipientId, role: f.roles[0] },
          purpose: f.purposeIds[0]!,
          legalBases: [...f.legalBases],
          dataCategories: [...f.categoryIds],
        });
      }
      await producer.flush();
    } finally {
      await producer.close();
    }
    // Not an event: the ingest (as sporbar-ingest) must write it to the DLQ.
    const raw = as(producerUser).producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
    await raw.send({ topic, acks: -1, messages: [{ key: 'garbage', value: Buffer.from('not an avro event') }] });
    await raw.disconnect();

    await waitFor(async () => (await stored()).total >= EVENTS, 120_000, `${EVENTS} events stored (ingest stderr: ${stderr.slice(-500)})`);
    let letters: Awaited<ReturnType<typeof readTopic>> = [];
    await waitFor(async () => (letters = await readTopic(admin, dlq)).length >= 1, 60_000, 'the bad message in the DLQ');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.headers!['sporbar-dlq-reason-code']!.toString()).toMatch(/^SPB_ERR_/);
    const stop = new Promise((r) => ingest.once('exit', r));
    ingest.kill('SIGTERM');
    await stop;
    expect(ingest.exitCode).toBe(0);
    expect(await stored()).toEqual({ total: EVENTS, distinct: EVENTS });
    expect(stderr).not.toMatch(/authoriz/i); // the ingest needed nothing it was not granted
  });

  /** A consumer as `who` in `group` until it reads a message or crashes (it is not restarted). */
  async function readAttempt(who: { user: string; password: string }, group: string): Promise<{ read: number; error?: Error }> {
    const consumer = as(who, 1).consumer({ groupId: group, sessionTimeout: 10_000, retry: { retries: 2, restartOnFailure: async () => false } });
    let read = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      return await new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`neither a message nor a refusal for ${who.user} within 60 s`)), 60_000);
        consumer.on(consumer.events.CRASH, ({ payload }) => resolve({ read, error: payload.error }));
        consumer.run({ eachMessage: async () => void (read++, resolve({ read })) }).catch((error: Error) => resolve({ read, error }));
      });
    } catch (error) {
      return { read, error: error as Error };
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
    }
  }

  it('producer-mitid cannot read the topic (not with the ingest group, not with one of its own)', async () => {
    for (const group of [groupId, randomName('producer-reads')]) {
      const { read, error } = await readAttempt(producerUser, group);
      expect(read).toBe(0);
      // kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED as a failed coordinator look-up
      expect(error?.message).toMatch(/group coordinator|authoriz/i);
    }
  });

  it('producer-mitid cannot write the DLQ; sporbar-ingest cannot write the topic', async () => {
    const send = async (who: { user: string; password: string }, to: string) => {
      const p = as(who, 0).producer({ retry: { retries: 0 } });
      await p.connect();
      try {
        await p.send({ topic: to, acks: -1, messages: [{ key: 'forged', value: 'forged' }] });
      } finally {
        await p.disconnect();
      }
    };
    await expect(send(producerUser, dlq)).rejects.toThrow(/authoriz/i);
    await expect(send(ingestUser, topic)).rejects.toThrow(/authoriz/i);
    const offsets = async (t: string) => (await readTopic(admin, t)).filter((m) => m.key?.toString() === 'forged').length;
    expect(await offsets(dlq)).toBe(0);
    expect(await offsets(topic)).toBe(0);
  });
});
