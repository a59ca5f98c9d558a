import { defineConfig } from 'vitest/config';

// Pure functions, no I/O: the exhaustive proof sweep over tree sizes 1..300 is the slow part (a few seconds).
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 } });
