import { inject, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { testKafkaBrokers } from '../src/vitest.ts';
import { canRunBroker } from './prereqs.ts';

describe.skipIf(!process.env.KAFKA_BROKERS && !canRunBroker())('vitest global setup', () => {
  it('provides a reachable broker list via inject() and KAFKA_BROKERS', async () => {
    const brokers = testKafkaBrokers();
    expect(brokers).toBeDefined();
    expect(inject('kafkaBrokers')).toEqual(brokers);
    expect(process.env.KAFKA_BROKERS).toBe(brokers!.join(','));

    const admin = new Kafka({ clientId: 'global-setup-test', brokers: brokers!, logLevel: logLevel.WARN }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
  });
});
