import { defineConfig } from 'vitest/config';

// The integration tests start witness processes against the local PostgreSQL.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
