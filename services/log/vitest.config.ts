import { defineConfig } from 'vitest/config';

// The tests start the log service as real processes (tsx) on fresh PostgreSQL databases: room for that on a loaded machine.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 } });
