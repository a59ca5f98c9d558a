/** Test-side helpers for the Kafka global setup (see vitest-global-setup.ts). */
import { inject } from 'vitest';
import { kafkaClientOptions, kafkaClientSettingsFromEnv, type KafkaClientSettings } from './client-settings.ts';
import './vitest-context.ts';

/**
 * Brokers of the test Kafka: what the global setup provided, else KAFKA_BROKERS, else undefined
 * (no Java/Maven outside CI: skip, e.g. `describe.skipIf(!testKafkaBrokers())`).
 */
export function testKafkaBrokers(): string[] | undefined {
  const provided = inject('kafkaBrokers');
  if (provided && provided.length > 0) return provided;
  const env = process.env.KAFKA_BROKERS?.trim();
  return env ? env.split(',').map((b) => b.trim()).filter(Boolean) : undefined;
}

/**
 * How to reach the test Kafka (brokers, and for a secured broker the CA file and the admin's
 * credentials): what the global setup provided, else the KAFKA_* environment, else undefined.
 */
export function testKafkaClient(): KafkaClientSettings | undefined {
  return inject('kafkaClient') ?? kafkaClientSettingsFromEnv(process.env);
}

/**
 * kafkajs options for the test Kafka, `new Kafka({ clientId, ...testKafkaClientOptions()! })`: plaintext
 * `{ brokers }`, or brokers + TLS + SASL as the admin (or as `as`, a principal the test provisioned).
 */
export function testKafkaClientOptions(as?: { user: string; password: string }): ReturnType<typeof kafkaClientOptions> | undefined {
  const settings = testKafkaClient();
  return settings ? kafkaClientOptions(settings, as) : undefined;
}
