import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer as KafkaProducer } from 'kafkajs';
import pg from 'pg';
import { testKafkaBrokers } from '@sporbar/kafka-infra/vitest';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage } from '@sporbar/producer';
import { register, registerFiles } from '@sporbar/schemas';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE, generateSealKeyPair } from '@sporbar/key-store';
import { ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, signedBy, waitFor } from './support.ts';

/**
 * Fault tests of the ingest as a real process (`sporbar-ingest run`) between a real broker and a
 * real PostgreSQL. Each asserts exact counts: nothing lost, nothing stored twice.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const pgVersion = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql')[0] : undefined;

describe.skipIf(!brokers || !pgProbe.url)('ingest fault tests (real broker, real PostgreSQL, ingest as a process)', () => {
  let kafka: Kafka;
  let sender: KafkaProducer;
  let keys: Awaited<ReturnType<typeof generateSealKeyPair>>;
  const pseudonymKey = randomBytes(32).toString('base64url');
  const masterKey = randomBytes(32).toString('base64url');
  const databases: Array<{ name: string; url: string }> = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    sender = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await sender.connect();
    keys = await generateSealKeyPair();
  });
  afterAll(async () => {
    await sender?.disconnect();
    for (const db of databases) await dropTestDatabase(pgProbe.url!, db.name);
  });

  async function messages(n: number): Promise<OutgoingMessage[]> {
    const out: OutgoingMessage[] = [];
    const producer = createProducer({
      transport: createInProcessTransport(async (m) => void out.push(...m)),
      sealPublicKey: keys.publicKey,
      routingSecret: randomBytes(32).toString('base64url'),
      producerKey: developmentProducerKey('mitid-core'),
    });
    const flows = register.activities.find((a) => a.id === 'mitid-core')!.flows;
    for (let i = 0; i < n; i++) {
      const f = flows[i % flows.length]!;
      await producer.recordDisclosure({
        subject: { cpr: `${String(1 + (i % 28)).padStart(2, '0')}0690-${String(i % 10000).padStart(4, '0')}` },
        activity: 'mitid-core',
        recipient: { id: f.recipientId, role: f.roles[0] },
        purpose: f.purposeIds[0]!,
        legalBases: [...f.legalBases],
        dataCategories: [...f.categoryIds],
      });
    }
    return out;
  }

  async function setup() {
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 6 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    const db = await createTestDatabase(pgProbe.url!);
    databases.push(db);
    return { topic, db };
  }

  /**
   * One node process, as `npm start` runs it (`node --import tsx src/main.ts run`): not through the
   * tsx CLI, whose relay process would take a SIGKILL in the ingest's place and leave the real ingest
   * running as an orphan.
   */
  function startIngest(topic: string, dbUrl: string, groupId: string): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run'], {
      cwd: PACKAGE_DIR,
      env: {
        ...process.env,
        // KAFKA_* (brokers, and for a secured broker the CA and the admin's SCRAM login) come with process.env
        SPORBAR_TOPIC: topic,
        SPORBAR_GROUP_ID: groupId,
        SPORBAR_STORE: 'postgres',
        DATABASE_URL: dbUrl,
        SPORBAR_SEAL_PRIVATE_KEY: keys.privateKey,
        SPORBAR_PSEUDONYM_KEY: pseudonymKey,
        SPORBAR_MASTER_KEY: masterKey,
        SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE,
        SPORBAR_ENV: 'development',
        METRICS_PORT: '0',
        LOG_LEVEL: process.env['SPORBAR_TEST_VERBOSE'] ? 'info' : 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (b: Buffer) => process.env['SPORBAR_TEST_VERBOSE'] && process.stderr.write(b));
    return child;
  }

  /** Sessions on the test database other than the one asking. */
  const otherSessions = async (url: string): Promise<number> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      return (rows[0] as { n: number }).n;
    } finally {
      await client.end();
    }
  };

  const stored = async (url: string): Promise<{ total: number; distinct: number }> => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // The events sent; not the ingest's own RegisterPublished of the notice versions (appended at each start, stored once).
      const { rows } = await client.query("SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM sporbar.events WHERE event_type <> 'RegisterPublished'");
      return rows[0] as { total: number; distinct: number };
    } catch {
      return { total: -1, distinct: -1 }; // schema not migrated yet, or the server restarting
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const send = async (topic: string, batch: readonly OutgoingMessage[]) => {
    for (let i = 0; i < batch.length; i += 1000) {
      await sender.send({ topic, acks: -1, messages: batch.slice(i, i + 1000).map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })) });
    }
  };

  const stop = async (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };

  it('ingest SIGKILLed mid-batch and restarted: every event stored exactly once', async () => {
    const { topic, db } = await setup();
    const all = await messages(20_000);
    await send(topic, all);
    const groupId = randomName('ingest');
    let ingest = startIngest(topic, db.url, groupId);
    try {
      await waitFor(async () => (await stored(db.url)).total >= 3000, 120_000, 'the ingest is well into the topic');
      await stop(ingest, 'SIGKILL');
      expect(ingest.signalCode).toBe('SIGKILL');
      // Nothing can write any more: once the server has closed the killed process's connections, no
      // session but this test's is left on the database (a transaction in flight at the kill is rolled back).
      await waitFor(async () => (await otherSessions(db.url)) === 0, 30_000, 'the killed ingest holds no database session');
      const atKill = (await stored(db.url)).total;
      expect(atKill).toBeLessThan(20_000);
      ingest = startIngest(topic, db.url, groupId);
      await waitFor(async () => (await stored(db.url)).total >= 20_000, 180_000, 'all 20,000 stored');
      // Stop it cleanly (a re-delivered batch in flight finishes or rolls back), then count: nothing extra appeared.
      await stop(ingest);
      expect(ingest.exitCode).toBe(0);
      expect(await stored(db.url)).toEqual({ total: 20_000, distinct: 20_000 });
      // Two starts, one RegisterPublished per notice version: the restart stored none again.
      const published = new pg.Client({ connectionString: db.url });
      await published.connect();
      try {
        const { rows } = await published.query("SELECT count(*)::int AS n FROM sporbar.events WHERE event_type = 'RegisterPublished'");
        expect(rows[0]).toEqual({ n: registerFiles.versions.length });
      } finally {
        await published.end();
      }
    } finally {
      await stop(ingest);
    }
  });

  it.skipIf(!pgVersion && process.env['CI'] !== 'true')('PostgreSQL restarted under load: the ingest retries with backoff, nothing lost', async () => {
    const { topic, db } = await setup();
    const all = await messages(15_000);
    const ingest = startIngest(topic, db.url, randomName('ingest'));
    try {
      await send(topic, all.slice(0, 5000));
      await waitFor(async () => (await stored(db.url)).total >= 2000, 120_000, 'ingest running');
      const sending = send(topic, all.slice(5000));
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion!, 'main', 'restart'], { stdio: 'ignore' });
      await sending;
      await waitFor(async () => (await stored(db.url)).total >= 15_000, 180_000, 'all 15,000 stored after the restart');
      expect(await stored(db.url)).toEqual({ total: 15_000, distinct: 15_000 });
    } finally {
      await stop(ingest);
    }
  });

  it('10,000 malformed and fuzzed payloads mixed with valid ones: every bad one in the DLQ with a reason, every valid one stored', async () => {
    const { topic, db } = await setup();
    const valid = await messages(5000);
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const { createCodec } = await import('@sporbar/schemas');
    const codec = createCodec();
    const refusedByCodec = (b: Buffer) => {
      try {
        codec.decode(b);
        return false;
      } catch {
        return true;
      }
    };
    // Noise, truncations, trailing bytes, unknown fingerprints and fuzzed bodies. A fuzzed body that
    // still decodes is not bad input, so only payloads the codec refuses are kept: the expectation is exact.
    const bad: Buffer[] = [];
    for (let i = 0; bad.length < 10_000; i++) {
      const base = Buffer.from(valid[i % valid.length]!.value);
      const kind = i % 5;
      let b: Buffer;
      if (kind === 0) b = randomBytes(Math.floor(rand() * 300));
      else if (kind === 1) b = base.subarray(0, 10 + Math.floor(rand() * (base.length - 11)));
      else if (kind === 2) b = Buffer.concat([base, randomBytes(1 + Math.floor(rand() * 5))]);
      else if (kind === 3) b = Buffer.concat([base.subarray(0, 2), randomBytes(8), base.subarray(10)]);
      else {
        b = Buffer.from(base);
        for (let f = 0; f < 3; f++) b[10 + Math.floor(rand() * (b.length - 10))] = Math.floor(rand() * 256);
      }
      if (refusedByCodec(b)) bad.push(b);
    }
    const mixed = [...valid.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })), ...bad.map((value) => ({ value, headers: signedBy('mitid-core', value) }))].sort(() => rand() - 0.5);
    for (let i = 0; i < mixed.length; i += 1000) await sender.send({ topic, acks: -1, messages: mixed.slice(i, i + 1000) });
    const ingest = startIngest(topic, db.url, randomName('ingest'));
    try {
      await waitFor(async () => (await stored(db.url)).total >= 5000, 180_000, 'valid events stored');
      let letters: Awaited<ReturnType<typeof readTopic>> = [];
      await waitFor(async () => (letters = await readTopic(kafka, `${topic}.dlq`)).length >= 10_000, 180_000, '10,000 dead letters');
      expect(letters).toHaveLength(10_000);
      expect(await stored(db.url)).toEqual({ total: 5000, distinct: 5000 });
      const codes = new Set(letters.map((l) => l.headers!['sporbar-dlq-reason-code']!.toString()));
      for (const code of ['SPB_ERR_BAD_MAGIC', 'SPB_ERR_TRUNCATED', 'SPB_ERR_TRAILING_BYTES', 'SPB_ERR_UNKNOWN_FINGERPRINT']) expect(codes).toContain(code);
      expect(letters.every((l) => (l.headers!['sporbar-dlq-reason']?.toString().length ?? 0) > 5)).toBe(true);
      expect(new Set(letters.map((l) => l.value!.toString('hex')))).toEqual(new Set(bad.map((b) => b.toString('hex'))));
      expect(ingest.exitCode).toBeNull(); // still running: no crash
    } finally {
      await stop(ingest);
    }
  });
});
