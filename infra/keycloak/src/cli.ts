#!/usr/bin/env node
// Usage: tsx src/cli.ts <start|stop|status|fetch|provision> [--port 8080] [--management-port N] [--name default] [--fresh]
//   start   start Keycloak in the background (detached) and return once /health/ready is UP; prints
//           the URL on stdout and the KEYCLOAK_* variables to use it on stderr. Idempotent.
//   stop    SIGTERM the background Keycloak (SIGKILL after 30 s).
//   status  print the URL and pid if running (exit 1 if not).
//   provision <realm.json> --secrets-dir <dir>
//           create the realm and its clients (a RealmSpec: realm, clients [{clientId, audience}],
//           accessTokenLifespan) on the running Keycloak --name, write each client's secret to
//           <dir>/<clientId>.secret (0600) and print the issuer on stdout. A realm that exists is kept
//           as it is (its secrets are not rewritten), so running it twice changes nothing.
//   fetch   fetch and unpack the distribution into dist/ (no-op if already there).
import { parseArgs } from 'node:util';
import { ensureKeycloakDist, keycloakDistPresent } from './dist.ts';
import { readKeycloakState, keycloakTargetOf, startKeycloak, stopKeycloak, type KeycloakState } from './server.ts';
import { provisionRealmFiles } from './provision-files.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: process.env.KEYCLOAK_PORT ?? '8080' },
    'management-port': { type: 'string' },
    name: { type: 'string', default: 'default' },
    'secrets-dir': { type: 'string' },
    fresh: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'status';
const name = values.name;

function printEnv(state: KeycloakState): void {
  console.error(`export KEYCLOAK_URL=${state.url} KEYCLOAK_ADMIN_USERNAME=${state.adminUsername} KEYCLOAK_ADMIN_PASSWORD_FILE=${state.adminPasswordFile}`);
}

async function main(): Promise<number> {
  switch (command) {
    case 'fetch': {
      const cached = keycloakDistPresent();
      const t0 = Date.now();
      const dir = await ensureKeycloakDist();
      console.error(cached ? `Keycloak already unpacked in ${dir}` : `fetched and unpacked Keycloak into ${dir} in ${Date.now() - t0} ms`);
      return 0;
    }
    case 'start': {
      const running = readKeycloakState(name);
      if (running) {
        console.error(`Keycloak "${name}" already running (pid ${running.pid}); log: ${running.logFile}`);
        printEnv(running);
        console.log(running.url);
        return 0;
      }
      const kc = await startKeycloak({
        port: Number(values.port),
        ...(values['management-port'] ? { managementPort: Number(values['management-port']) } : {}),
        name,
        fresh: values.fresh,
        detached: true,
      });
      console.error(`Keycloak "${name}" ready in ${kc.startedInMs} ms (pid ${kc.state.pid}); log: ${kc.state.logFile}`);
      printEnv(kc.state);
      console.log(kc.url);
      return 0;
    }
    case 'stop': {
      const stopped = await stopKeycloak(name);
      console.error(stopped ? `Keycloak "${name}" stopped` : `Keycloak "${name}" was not running`);
      return 0;
    }
    case 'status': {
      const state = readKeycloakState(name);
      if (!state) {
        console.error(`Keycloak "${name}" is not running`);
        return 1;
      }
      console.log(`${state.url} (pid ${state.pid}, management port ${state.managementPort}); log: ${state.logFile}`);
      return 0;
    }
    case 'provision': {
      const file = positionals[1];
      const dir = values['secrets-dir'];
      if (!file || !dir) {
        console.error('usage: provision <realm.json> --secrets-dir <dir> [--name default]');
        return 2;
      }
      const state = readKeycloakState(name);
      if (!state) {
        console.error(`Keycloak "${name}" is not running`);
        return 1;
      }
      const result = await provisionRealmFiles(keycloakTargetOf(state), file, dir);
      console.error(result.created ? `realm ${result.realm} created; client secrets in ${dir}` : `realm ${result.realm} already exists: kept as it is`);
      console.log(result.issuer);
      return 0;
    }
    default:
      console.error(`unknown command ${command}: start | stop | status | fetch | provision`);
      return 2;
  }
}

process.exitCode = await main();
