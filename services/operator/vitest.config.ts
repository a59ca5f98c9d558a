import { defineConfig } from 'vitest/config';

// The command-line tests run `sporbar` as a process (tsx start-up: a few seconds on a loaded machine).
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
