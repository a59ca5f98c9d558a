import { createProducerSigner, developmentProducerKey, formatProducerKey } from '@sporbar/key-store/producer-auth';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE } from '@sporbar/key-store';
import { devPublicKey } from '@sporbar/access-api';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaConfig, type KafkaMessage } from 'kafkajs';
import { testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';

export { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';

export const randomName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/**
 * A kafkajs client of the test broker: by default the global setup's (plaintext, or TLS + SCRAM as
 * the admin when the broker is secured), or the given options (another principal, another broker).
 */
export function kafkaClient(options: Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> | undefined = testKafkaClientOptions()): Kafka {
  if (!options) throw new Error('no test Kafka: the global setup provided none and KAFKA_BROKERS is not set');
  return new Kafka({ clientId: randomName('test'), ...options, logLevel: logLevel.NOTHING });
}

/** Polls until check() is true; fails with `what` after timeoutMs. Never a bare sleep. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(250, delay * 2)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Reads every message of a topic from the beginning up to its current end. */
export async function readTopic(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const out: KafkaMessage[] = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: randomName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push(message) });
  await waitFor(() => out.length >= total, 60_000, `reading ${total} messages of ${topic}`);
  await consumer.disconnect();
  return out;
}

/** The authenticator headers a registered producer (development key) puts on a record value: for tests that hand-craft records. */
export const signedBy = (producerId: string, value: Uint8Array): Record<string, string> => ({ ...createProducerSigner(developmentProducerKey(producerId))(value) });

/**
 * The environment the pipeline tests give the ingest, the projector and the access API they spawn
 * (KAFKA_* come with process.env: the suite's broker, secured under CI): one topic and group, the
 * store in `databaseUrl`, fresh secrets, the development producer registry (so SPORBAR_ENV=development)
 * and the access API's development producer key.
 */
export function pipelineEnv(o: { topic: string; databaseUrl: string; seal: { privateKey: string; publicKey: string } }): Record<string, string> {
  return {
    SPORBAR_TOPIC: o.topic,
    SPORBAR_GROUP_ID: randomName('ingest'),
    SPORBAR_STORE: 'postgres',
    DATABASE_URL: o.databaseUrl,
    SPORBAR_SEAL_PRIVATE_KEY: o.seal.privateKey,
    SPORBAR_SEAL_PUBLIC_KEY: o.seal.publicKey,
    SPORBAR_ROUTING_SECRET: randomBytes(32).toString('base64url'),
    SPORBAR_PSEUDONYM_KEY: randomBytes(32).toString('base64url'),
    SPORBAR_MASTER_KEY: randomBytes(32).toString('base64url'),
    SPORBAR_JWT_PUBLIC_KEY: devPublicKey().export({ format: 'pem', type: 'spki' }).toString(),
    SPORBAR_ENV: 'development',
    SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE,
    SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-access-api')),
    METRICS_PORT: '0',
  };
}
