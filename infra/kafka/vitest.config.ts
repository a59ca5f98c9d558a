import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The global setup is exercised the way other packages use it (by package name);
    // broker.int.test.ts additionally starts its own broker so it can SIGKILL/restart it.
    globalSetup: ['@sporbar/kafka-infra/vitest-global-setup'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000, // first run may fetch the jars with Maven
  },
});
