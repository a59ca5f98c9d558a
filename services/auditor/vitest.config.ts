import { defineConfig } from 'vitest/config';

// The exhaustive proof sweep over tree sizes 1..300 is the slow part; hooks create databases (slow on a loaded machine).
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
