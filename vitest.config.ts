import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every workspace's tests in one vitest run. Files run one at a time: the
 * integration tests share one PostgreSQL server and one Kafka broker (and one of them restarts
 * PostgreSQL), and on two cores parallel files gain little.
 */
export default defineConfig({
  test: {
    projects: ['schemas', 'projections', 'services/*', 'infra/kafka', 'infra/keycloak', 'infra/production', 'infra/tlog-interop'],
    fileParallelism: false,
    reporters: ['default', './tools/summary-reporter.ts'],
  },
});
