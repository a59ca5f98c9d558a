import { defineConfig } from 'vitest/config';

// The Kafka tests start (or reuse, via KAFKA_BROKERS) one real broker for this package; the services they
// spawn and the broker take seconds to start, so tests get room for that.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['@sporbar/kafka-infra/vitest-global-setup'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
