import { inject, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaClientSettingsFromEnv } from '../src/index.ts';
import { testKafkaBrokers, testKafkaClient, testKafkaClientOptions } from '../src/vitest.ts';
import { canRunBroker } from './prereqs.ts';

// Runs against whatever the global setup provides: by default a plaintext broker; with KAFKA_SECURE=1
// or under CI=true (.ci/run's broker, or one the setup starts) a secured one (then the provided
// settings carry the CA file and the admin's credentials).
describe.skipIf(!process.env.KAFKA_BROKERS && !canRunBroker())('vitest global setup', () => {
  it('provides a reachable broker via inject() and the KAFKA_* environment', async () => {
    const brokers = testKafkaBrokers();
    expect(brokers).toBeDefined();
    expect(inject('kafkaBrokers')).toEqual(brokers);
    expect(process.env.KAFKA_BROKERS).toBe(brokers!.join(','));
    expect(testKafkaClient()).toEqual(kafkaClientSettingsFromEnv(process.env));
    expect(testKafkaClient()?.brokers).toEqual(brokers);
    if (process.env.KAFKA_SECURE === '1' || process.env.CI === 'true') {
      expect(testKafkaClient()).toMatchObject({ ssl: { caFile: expect.any(String) }, sasl: { username: 'admin' } });
    }

    const admin = new Kafka({ clientId: 'global-setup-test', ...testKafkaClientOptions()!, logLevel: logLevel.WARN }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
  });
});
