import { defineConfig } from 'vitest/config';

// One Keycloak per test file (or KEYCLOAK_URL's): it takes 25–50 s to start on a small machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000, // the first run may fetch and unpack the distribution
  },
});
