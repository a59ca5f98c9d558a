import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPrerequisites, kafkaClientOptions, kafkaClientSettingsFromEnv, kafkaJarsPresent, provisionKafkaPrincipals, startKafkaBroker, type KafkaBroker, type KafkaClientSettings, type KafkaPrincipalSpec } from '@sporbar/kafka-infra';
import { waitFor } from '../../ingest/test/support.ts';
import { DLQ_TOPIC, INGEST_GROUP, parseEnvFile, TOPIC } from '../src/deployment.ts';
import { keysInit } from '../src/init.ts';

/**
 * The Kafka principals `keys init` writes, provisioned on a secured broker (TLS, SCRAM, ACLs) as the
 * provision command does (provisionKafkaPrincipals), each program logging in with the user and the
 * password file of its own env file: every writer can write the disclosures topic, the ingest can read
 * it in its group, and nobody can do more (a producer cannot read, the ingest cannot write the topic).
 * The suite's secured broker (KAFKA_* as CI exports them), else one started here.
 */
const suite = kafkaClientSettingsFromEnv(process.env);
const suiteSecured = suite?.sasl !== undefined;
const pre = checkPrerequisites();
const canRun = suiteSecured || (pre.java && (pre.maven || kafkaJarsPresent()));
if (!canRun && process.env['CI'] === 'true') throw new Error('CI=true but no secured Kafka broker can be had (no Java/Maven)');

const root = mkdtempSync(join(tmpdir(), 'sporbar-kafka-keys-'));
const dir = join(root, 'keys');
let own: KafkaBroker | undefined;
let target: KafkaClientSettings;

beforeAll(async () => {
  if (!canRun) return;
  await keysInit(dir);
  target = suiteSecured ? suite! : (own = await startKafkaBroker({ port: 0, name: `operator-keys-${process.pid}`, fresh: true, secure: true })).clientSettings;
  const admin = new Kafka({ clientId: 'operator-test-admin', ...kafkaClientOptions(target), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    const missing = [TOPIC, DLQ_TOPIC].filter((t) => !existing.includes(t));
    if (missing.length) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  await provisionKafkaPrincipals(target, JSON.parse(readFileSync(join(dir, 'kafka-principals.json'), 'utf8')) as KafkaPrincipalSpec[]);
}, 300_000);
afterAll(async () => {
  if (own) {
    await own.stop();
    rmSync(own.runDir, { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
}, 60_000);

/** A client as the program of this env file: its KAFKA_SASL_USERNAME and the password in its KAFKA_SASL_PASSWORD_FILE. */
function as(envFile: string): { user: string; kafka: Kafka } {
  const env = parseEnvFile(readFileSync(join(dir, envFile), 'utf8'));
  const user = env['KAFKA_SASL_USERNAME']!;
  const password = readFileSync(env['KAFKA_SASL_PASSWORD_FILE']!, 'utf8').trim();
  return { user, kafka: new Kafka({ clientId: `${user}-${process.pid}`, ...kafkaClientOptions(target, { user, password }), logLevel: logLevel.NOTHING, retry: { retries: 1 } }) };
}
async function send(envFile: string, topic: string, value: string): Promise<string | undefined> {
  const producer = as(envFile).kafka.producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ value }] });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

describe.skipIf(!canRun)('the Kafka principals keys init provisions, on a secured broker', () => {
  const marker = `keys-${process.pid}-${Date.now()}`;
  const writers = ['producer-mitid-core.env', 'producer-nemkonto.env', 'gateway.env', 'access-api.env', 'retention.env', 'redrive.env'];

  it('every writer writes the disclosures topic with its own password; the ingest and a producer may do nothing else', async () => {
    for (const w of writers) expect(await send(w, TOPIC, `${marker} ${w}`), w).toBeUndefined();
    expect(await send('ingest.env', TOPIC, 'the ingest cannot write the log it reads')).toMatch(/not authorized/i);
    expect(await send('producer-mitid-core.env', DLQ_TOPIC, 'a producer cannot write the DLQ')).toMatch(/not authorized/i);
  });

  it('the ingest reads the topic in its group; a producer cannot', async () => {
    const seen = new Set<string>();
    const consumer = as('ingest.env').kafka.consumer({ groupId: INGEST_GROUP });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void (message.value?.toString().startsWith(marker) && seen.add(message.value.toString())) });
      await waitFor(() => seen.size === writers.length, 120_000, 'the writers\' messages at the ingest');
    } finally {
      await consumer.disconnect();
    }
    // A producer joining the ingest's group to read: refused (it has no Read on the topic nor on any group), nothing read.
    const intruder = as('producer-mitid-core.env').kafka.consumer({ groupId: INGEST_GROUP, retry: { retries: 0, restartOnFailure: async () => false } });
    const read: string[] = [];
    let refusal: Error | undefined;
    intruder.on(intruder.events.CRASH, (e) => void (refusal = e.payload.error));
    await intruder.connect();
    try {
      try {
        await intruder.subscribe({ topic: TOPIC, fromBeginning: true });
        await intruder.run({ eachMessage: async ({ message }) => void read.push(String(message.value)) });
      } catch (err) {
        refusal = err as Error;
      }
      await waitFor(() => refusal !== undefined, 60_000, 'the refusal of a producer reading');
      // kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED as a failed coordinator look-up (as in the ingest's least-privilege test)
      expect(refusal!.message).toMatch(/group coordinator|not authorized/i);
      expect(read).toEqual([]);
    } finally {
      await intruder.disconnect().catch(() => undefined);
    }
  });
});
