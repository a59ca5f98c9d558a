/**
 * Test-side helpers: one Keycloak for a test file, or the one KEYCLOAK_URL names (`.ci/run` starts
 * one for the whole run and exports KEYCLOAK_URL and KEYCLOAK_ADMIN_PASSWORD_FILE).
 *
 *   const available = keycloakAvailable();             // throws under CI=true when none can be had
 *   describe.skipIf(!available)('…', () => {
 *     let kc: TestKeycloak;
 *     beforeAll(async () => { kc = await startTestKeycloak(); });
 *     afterAll(() => kc?.stop());
 *   });
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { keycloakAnswers } from './admin.ts';
import { keycloakDistPresent } from './dist.ts';
import { checkPrerequisites } from './prereqs.ts';
import { startKeycloak, type KeycloakTarget } from './server.ts';

export interface TestKeycloak extends KeycloakTarget {
  /** Stops the Keycloak this file started (and deletes its run dir); a no-op for KEYCLOAK_URL's. */
  stop(): Promise<void>;
  /** How long this file waited for it, in ms. */
  readonly startedInMs: number;
  readonly external: boolean;
}

/** The Keycloak KEYCLOAK_URL names, with KEYCLOAK_ADMIN_USERNAME (default admin) and KEYCLOAK_ADMIN_PASSWORD(_FILE). */
export function externalKeycloak(env: NodeJS.ProcessEnv = process.env): KeycloakTarget | undefined {
  const url = env.KEYCLOAK_URL?.trim().replace(/\/+$/, '');
  if (!url) return undefined;
  const file = env.KEYCLOAK_ADMIN_PASSWORD_FILE?.trim();
  const password = file ? fs.readFileSync(file, 'utf8').trim() : env.KEYCLOAK_ADMIN_PASSWORD?.trim();
  if (!password) throw new Error('KEYCLOAK_URL is set but neither KEYCLOAK_ADMIN_PASSWORD nor KEYCLOAK_ADMIN_PASSWORD_FILE is');
  return { url, admin: { username: env.KEYCLOAK_ADMIN_USERNAME?.trim() || 'admin', password } };
}

/**
 * Whether a Keycloak can be had: KEYCLOAK_URL is set, or java is there and the distribution is
 * unpacked (or mvn and unzip can fetch it). Under CI=true "no" is an error, never a skip.
 */
export function keycloakAvailable(): boolean {
  if (process.env.KEYCLOAK_URL?.trim()) return true;
  const pre = checkPrerequisites();
  const missing = [!pre.java && 'java', !keycloakDistPresent() && !pre.maven && 'mvn', !keycloakDistPresent() && !pre.unzip && 'unzip'].filter(Boolean);
  if (missing.length === 0) return true;
  const msg = `[keycloak-infra] ${missing.join(' and ')} not found: cannot start Keycloak for the tests`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true, so this is an error; or set KEYCLOAK_URL)`);
  console.warn(`${msg}; Keycloak tests are skipped (install JDK 17+, Maven and unzip, or set KEYCLOAK_URL).`);
  return false;
}

/** KEYCLOAK_URL's Keycloak (waited for), or a fresh one on a free port for this file. */
export async function startTestKeycloak(): Promise<TestKeycloak> {
  const t0 = Date.now();
  const external = externalKeycloak();
  if (external) {
    while (!(await keycloakAnswers(external.url))) {
      if (Date.now() - t0 > 120_000) throw new Error(`KEYCLOAK_URL=${external.url} does not answer`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { ...external, external: true, startedInMs: Date.now() - t0, stop: async () => {} };
  }
  const server = await startKeycloak({ port: 0, name: `vitest-${process.pid}-${randomBytes(3).toString('hex')}`, fresh: true });
  console.log(`[keycloak-infra] Keycloak ${server.url} ready in ${server.startedInMs} ms (log: ${server.state.logFile})`);
  return {
    url: server.url,
    admin: server.admin,
    external: false,
    startedInMs: server.startedInMs,
    stop: async () => {
      await server.stop();
      if (process.env.KEYCLOAK_KEEP_RUN_DIR !== '1') fs.rmSync(server.state.runDir, { recursive: true, force: true });
    },
  };
}
