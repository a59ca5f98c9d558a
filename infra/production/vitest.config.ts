import { defineConfig } from 'vitest/config';

// The README's production script starts a Kafka broker, Keycloak and six services as processes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
