import { defineConfig } from 'vitest/config';

// PGlite (PostgreSQL in WebAssembly) takes a second or two to start: tests get room for that.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
