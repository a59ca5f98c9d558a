import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureKeycloakDist } from './dist.ts';
import { DIST_DIR, RUN_ROOT } from './paths.ts';
import { javaCommand } from './prereqs.ts';

/** Where a Keycloak is and how to log in to its admin API (master realm, admin-cli). */
export interface KeycloakTarget {
  /** Base URL, without a trailing slash: http://127.0.0.1:<port>. Realms are at <url>/realms/<realm>. */
  readonly url: string;
  readonly admin: { readonly username: string; readonly password: string };
}

/** What run/<name>/keycloak.json records (no password: that is in admin.password, 0600). */
export interface KeycloakState {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly managementPort: number;
  readonly pid: number;
  readonly adminUsername: string;
  readonly adminPasswordFile: string;
  readonly logFile: string;
  readonly runDir: string;
}

export interface KeycloakServer extends KeycloakTarget {
  readonly state: KeycloakState;
  /** Milliseconds from spawn until /health/ready answered UP. */
  readonly startedInMs: number;
  /** SIGTERM to the server's process group, SIGKILL after 30 s. */
  stop(): Promise<void>;
}

export interface StartKeycloakOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Management port (health endpoints); default: a free one. */
  readonly managementPort?: number;
  /** The run directory's name, run/<name>/. Default 'default'. */
  readonly name?: string;
  /** Delete run/<name>/ (its database) first. */
  readonly fresh?: boolean;
  /** Outlive this Node process (the CLI). Otherwise it is SIGKILLed when this process exits. */
  readonly detached?: boolean;
  /** The bootstrap admin, created when the database is new. Default: admin and a random password. */
  readonly adminUsername?: string;
  readonly adminPassword?: string;
  /** How long to wait for readiness. Default 180 s. */
  readonly timeoutMs?: number;
  /** JVM heap options. Default '-Xms64m -Xmx768m'. */
  readonly heap?: string;
}

/** A free TCP port on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const runDirOf = (name: string): string => {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`Keycloak name "${name}": use letters, digits, '.', '_' and '-' only`);
  return path.join(RUN_ROOT, name);
};

/** True when pid is the process group leader of the Keycloak of this run dir (never signal a recycled pid). */
function isOurKeycloak(pid: number, runDir: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(DIST_DIR) && cmdline.includes(runDir);
  } catch {
    return false;
  }
}

/** The state of run/<name>/ if its Keycloak is running, else undefined. */
export function readKeycloakState(name = 'default'): KeycloakState | undefined {
  const runDir = runDirOf(name);
  try {
    const state = JSON.parse(fs.readFileSync(path.join(runDir, 'keycloak.json'), 'utf8')) as KeycloakState;
    return isOurKeycloak(state.pid, runDir) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The admin login of a state file's Keycloak. */
export function keycloakTargetOf(state: KeycloakState): KeycloakTarget {
  return { url: state.url, admin: { username: state.adminUsername, password: fs.readFileSync(state.adminPasswordFile, 'utf8').trim() } };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function terminate(pid: number, runDir: string): Promise<void> {
  if (!isOurKeycloak(pid, runDir)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Stop the Keycloak recorded in run/<name>/ (one the CLI started, say). False if none was running. */
export async function stopKeycloak(name = 'default'): Promise<boolean> {
  const state = readKeycloakState(name);
  if (!state) return false;
  await terminate(state.pid, state.runDir);
  return true;
}

const lastLines = (file: string, n = 40): string => {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
};

/**
 * Starts Keycloak (`bin/kc.sh start-dev`, the development mode: HTTP, an H2 file database in
 * run/<name>/h2) on 127.0.0.1 and waits until its readiness endpoint answers UP. The bootstrap
 * admin comes from KC_BOOTSTRAP_ADMIN_USERNAME / KC_BOOTSTRAP_ADMIN_PASSWORD (passed through the
 * environment, never on the command line). Fetches and unpacks the distribution on first use.
 */
export async function startKeycloak(options: StartKeycloakOptions = {}): Promise<KeycloakServer> {
  const name = options.name ?? 'default';
  const runDir = runDirOf(name);
  if (readKeycloakState(name)) throw new Error(`Keycloak "${name}" is already running (npm run keycloak:stop -- --name ${name})`);
  const dist = await ensureKeycloakDist();
  if (options.fresh) fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });

  const port = options.port === 0 ? await getFreePort() : (options.port ?? 8080);
  const managementPort = options.managementPort || (await getFreePort());
  const adminUsername = options.adminUsername ?? 'admin';
  const adminPasswordFile = path.join(runDir, 'admin.password');
  // The bootstrap admin exists only in a new database: a later start on the same run dir keeps its password.
  const adminPassword = options.adminPassword ?? (fs.existsSync(adminPasswordFile) ? fs.readFileSync(adminPasswordFile, 'utf8').trim() : randomBytes(24).toString('base64url'));
  fs.writeFileSync(adminPasswordFile, adminPassword + '\n', { mode: 0o600 });
  const logFile = path.join(runDir, 'keycloak.log');
  const url = `http://127.0.0.1:${port}`;

  const args = [
    path.join(dist, 'bin', 'kc.sh'),
    'start-dev',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    `--http-management-port=${managementPort}`,
    '--health-enabled=true',
    '--db=dev-file',
    `--db-url=jdbc:h2:file:${path.join(runDir, 'h2', 'keycloakdb')};NON_KEYWORDS=VALUE`,
    '--log=file',
    `--log-file=${logFile}`,
  ];
  const out = fs.openSync(path.join(runDir, 'stdout.log'), 'a');
  const t0 = Date.now();
  const proc = spawn('bash', args, {
    cwd: runDir,
    detached: true, // its own process group: stop() signals kc.sh and the JVM together
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      KC_BOOTSTRAP_ADMIN_USERNAME: adminUsername,
      KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
      JAVA_OPTS_KC_HEAP: options.heap ?? '-Xms64m -Xmx768m',
      ...(process.env.JAVA_HOME ? {} : { JAVA: javaCommand() }),
    },
  });
  fs.closeSync(out);
  const pid = proc.pid;
  if (pid === undefined) throw new Error('could not spawn bash bin/kc.sh');
  let exited: string | undefined;
  proc.on('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  proc.unref();
  const killOnExit = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  if (!options.detached) process.once('exit', killOnExit);

  const state: KeycloakState = { name, url, port, managementPort, pid, adminUsername, adminPasswordFile, logFile, runDir };
  fs.writeFileSync(path.join(runDir, 'keycloak.json'), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });

  const deadline = t0 + (options.timeoutMs ?? 180_000);
  for (;;) {
    if (exited) throw new Error(`Keycloak "${name}" exited before it was ready (${exited}):\n${lastLines(path.join(runDir, 'stdout.log'))}\n${lastLines(logFile)}`);
    if (await ready(managementPort)) break;
    if (Date.now() > deadline) {
      killOnExit();
      throw new Error(`Keycloak "${name}" was not ready after ${Date.now() - t0} ms:\n${lastLines(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const startedInMs = Date.now() - t0;
  return {
    url,
    admin: { username: adminUsername, password: adminPassword },
    state,
    startedInMs,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await terminate(pid, runDir);
    },
  };
}

async function ready(managementPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${managementPort}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return false;
    return ((await res.json()) as { status?: string }).status === 'UP';
  } catch {
    return false;
  }
}
