import { defineConfig } from 'vitest/config';

// The OAuth2 integration test starts Keycloak (25–50 s on a small machine) unless KEYCLOAK_URL names one.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 } });
