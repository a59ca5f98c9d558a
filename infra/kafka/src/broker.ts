import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { validatePrincipals, type KafkaPrincipalSpec } from './acl.ts';
import { kafkaClientOptions, type KafkaClientSettings } from './client-settings.ts';
import { ensureKafkaJars } from './jars.ts';
import { runJava } from './java.ts';
import { RUN_ROOT } from './paths.ts';
import { javaCommand } from './prereqs.ts';
import { createPrincipalAcls, provisionKafkaPrincipals } from './principals.ts';
import { randomPassword, scramSha512Credential, storageToolScramArgument } from './scram.ts';
import { ADMIN_USER, secureServerProperties } from './security-config.ts';
import { ensureBrokerTls, type BrokerTls } from './tls.ts';

export interface StartKafkaBrokerOptions {
  /** Client listener port on 127.0.0.1 (PLAINTEXT; SASL_SSL in secured mode). Default 9092; 0 picks a free port. */
  port?: number;
  /** KRaft controller port on 127.0.0.1. Default: a free port. */
  controllerPort?: number;
  /** Run directory name: infra/kafka/run/<name>/ (logs, pidfile, config, default data dir). Default "default". */
  name?: string;
  /** Kafka log dir (topic data + KRaft metadata). Default infra/kafka/run/<name>/data. */
  dataDir?: string;
  /** Delete the data dir (and old logs) first and format a new cluster. Default false: reuse existing data. */
  fresh?: boolean;
  /** How long to wait for the broker to answer describeCluster. Default 90 s. */
  startTimeoutMs?: number;
  /** Extra/overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  /**
   * Run the JVM in its own process group and let it outlive this Node process (used by the CLI).
   * Default false: the broker is SIGKILLed if this process exits without stopping it.
   */
  detached?: boolean;
  /**
   * Secured mode: TLS + SASL/SCRAM-SHA-512 (SASL_SSL) for clients, mutual-TLS controller listener,
   * StandardAuthorizer ACLs with nothing allowed by default (see security-config.ts and the README).
   * `true`, or the principals to create with the cluster. Default false: one PLAINTEXT listener.
   */
  secure?: boolean | KafkaSecureOptions;
}

export interface KafkaSecureOptions {
  /**
   * Principals (SCRAM users + ACLs) to create. On a fresh data dir the users are written at storage
   * format time (no extra cost); on an existing one they go through ConfigCommand (about 2–3 s per user).
   */
  principals?: KafkaPrincipalSpec[];
}

export interface KafkaBroker {
  /** Bootstrap addresses, e.g. ["127.0.0.1:9092"]. */
  readonly brokers: string[];
  /** Pid of the broker JVM (changes on restart()). */
  readonly pid: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly name: string;
  readonly runDir: string;
  readonly dataDir: string;
  /** The broker's log4j log (server log), in the run dir. */
  readonly logFile: string;
  readonly clusterId: string;
  /** True in secured mode (SASL_SSL listener, ACLs). */
  readonly secure: boolean;
  /**
   * How a client reaches this broker: `{ brokers }` for plaintext; in secured mode also the CA file and
   * the admin's SCRAM credentials (super user). kafkaClientOptions(broker, principal?) turns it into kafkajs options.
   */
  readonly clientSettings: KafkaClientSettings;
  /** Secured mode: the TLS files (run/<name>/tls/). */
  readonly tls?: BrokerTls;
  /** SIGTERM, wait up to timeoutMs (default 30 s), then SIGKILL. Resolves once the JVM is gone. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** SIGKILL (no clean shutdown; for fault tests). Resolves once the JVM is gone. */
  kill(): Promise<void>;
  /** Stop if running (cleanly), then start again on the same ports and data dir and wait until healthy. */
  restart(): Promise<void>;
}

/** What a running broker records in run/<name>/broker.json (used by the CLI's status/stop). */
export interface BrokerState {
  name: string;
  pid: number;
  port: number;
  controllerPort: number;
  brokers: string[];
  dataDir: string;
  logFile: string;
  clusterId: string;
  startedAt: string;
  /** Secured mode: the CA certificate (PEM) and the 0600 JSON file with the admin's client settings. */
  secure?: { caFile: string; adminClientFile: string; adminPasswordFile: string };
}

const HOST = '127.0.0.1';
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

export function runDirFor(name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid broker name ${JSON.stringify(name)}`);
  return path.join(RUN_ROOT, name);
}

const pidFile = (runDir: string) => path.join(runDir, 'broker.pid');
const stateFile = (runDir: string) => path.join(runDir, 'broker.json');
/** Secured mode: the admin's KafkaClientSettings (with its password), 0600. */
const adminClientFile = (runDir: string) => path.join(runDir, 'admin-client.json');
/** Secured mode: the admin's password alone (for KAFKA_SASL_PASSWORD_FILE), 0600. */
const adminPasswordFile = (runDir: string) => path.join(runDir, 'admin.password');

/** A free TCP port on 127.0.0.1 (the OS picks it; tiny race until the broker binds it). */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka rejects ids starting with '-' (they look like CLI flags)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and (where /proc exists) really our Kafka JVM, not a recycled pid. */
function isOurBroker(pid: number, runDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(path.join(runDir, 'server.properties'));
  } catch {
    return !fs.existsSync('/proc/self'); // no procfs (macOS): trust the pidfile
  }
}

/** The last ERROR/FATAL lines of the broker log (the cause is usually there, above the shutdown noise). */
function errorLines(file: string, max = 8): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // each ERROR line plus the exception message that follows it
    const errors = lines.flatMap((l, i) => (/ (ERROR|FATAL) /.test(l) ? [lines.slice(i, i + 3).join('\n')] : []));
    return errors.length ? `--- ERROR lines of ${file} ---\n${errors.slice(-max).join('\n')}\n` : '';
  } catch {
    return '';
  }
}

/** Last `lines` lines of a file, or a note if it does not exist. */
export function tailFile(file: string, lines = 60): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return `(no ${path.basename(file)})`;
  }
}

function serverProperties(o: {
  port: number;
  controllerPort: number;
  dataDir: string;
  security: Record<string, string | number | boolean> | undefined;
  extra: Record<string, string | number | boolean> | undefined;
}): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${HOST}:${o.controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${o.port},CONTROLLER://${HOST}:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': o.dataDir,
    'num.partitions': 6,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    // 50 partitions (the default) makes the first consumer group slow to come up on a small machine.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    // After a SIGKILL the controller refuses the restarted broker's registration
    // (DUPLICATE_BROKER_REGISTRATION) until the old session expires: 9 s by default, 4 s here.
    'broker.session.timeout.ms': 4000,
    'broker.heartbeat.interval.ms': 1000,
    // Sized for a 2-core dev box / CI runner and a 512 MB heap.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.dedupe.buffer.size': 32 * 1024 * 1024,
    ...o.security,
    ...o.extra,
  };
  return (
    '# Generated by @sporbar/kafka-infra (src/broker.ts); rewritten on every start.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('\n') +
    '\n'
  );
}

function log4jProperties(runDir: string): string {
  const file = path.join(runDir, 'broker.log').replaceAll('\\', '/');
  return `# Generated by @sporbar/kafka-infra: everything goes to ${path.basename(file)}, nothing to the console.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${file}
log4j.appender.file.Append=true
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
log4j.logger.state.change.logger=WARN
`;
}

function jvmArgs(libsDir: string, runDir: string, mainClass: string, args: string[]): string[] {
  return [
    '-Xmx512m',
    '-Xms256m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(runDir, 'log4j.properties')}`,
    `-Dkafka.logs.dir=${runDir}`,
    '-cp',
    `${path.join(libsDir, '*')}`, // expanded by the JVM, not a shell
    mainClass,
    ...args,
  ];
}

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // writeFileSync's mode only applies to a new file
}

/** The admin password recorded when the data dir was formatted in secured mode. */
function readAdminPassword(runDir: string, dataDir: string): string {
  try {
    const settings = JSON.parse(fs.readFileSync(adminClientFile(runDir), 'utf8')) as KafkaClientSettings;
    if (settings.sasl?.username === ADMIN_USER && settings.sasl.password) return settings.sasl.password;
  } catch {
    // fall through
  }
  throw new Error(
    `${dataDir} exists but ${adminClientFile(runDir)} has no admin password: it was formatted without secured mode ` +
      `(or the file was lost). Start with fresh (--fresh) to make a new secured cluster.`,
  );
}

function readClusterId(dataDir: string): string | undefined {
  try {
    const meta = fs.readFileSync(path.join(dataDir, 'meta.properties'), 'utf8');
    return /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** Ask the broker for describeCluster until it answers with the expected cluster id. */
async function waitUntilHealthy(o: {
  brokers: string[];
  /** kafkajs connection options (TLS and SASL in secured mode). */
  client: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  clusterId: string;
  timeoutMs: number;
  exited: () => string | undefined;
  logFile: string;
  stdoutFile: string;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    const exit = o.exited();
    if (exit !== undefined) {
      throw new Error(
        `Kafka broker exited during startup (${exit}).\n--- ${o.stdoutFile} ---\n${tailFile(o.stdoutFile, 30)}\n` +
          errorLines(o.logFile) +
          `--- tail of ${o.logFile} ---\n${tailFile(o.logFile, 40)}`,
      );
    }
    const kafka = new Kafka({
      clientId: 'sporbar-kafka-infra-healthcheck',
      ...o.client,
      brokers: o.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 3000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.clusterId !== o.clusterId) {
        throw new Error(`${o.brokers.join(',')} belongs to cluster ${cluster.clusterId}, expected ${o.clusterId}`);
      }
      if (cluster.brokers.length > 0) return;
      lastError = 'describeCluster returned no brokers yet';
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await sleep(250);
  }
  throw new Error(
    `Kafka broker at ${o.brokers.join(',')} did not become healthy within ${o.timeoutMs} ms ` +
      `(last error: ${lastError}).\n` +
      errorLines(o.logFile) +
      `--- tail of ${o.logFile} ---\n${tailFile(o.logFile, 40)}`,
  );
}

/** True if `p` settles within `ms` (the timer is cleared either way, so nothing keeps the process alive). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Send `signal` to pid and wait (polling) until it is gone; false if still alive after timeoutMs. */
async function signalAndWait(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

async function terminate(pid: number, timeoutMs: number): Promise<void> {
  if (await signalAndWait(pid, 'SIGTERM', timeoutMs)) return;
  if (!(await signalAndWait(pid, 'SIGKILL', 10_000))) throw new Error(`Kafka broker pid ${pid} survived SIGKILL`);
}

/** The state file of a broker started under `name`, if its JVM is still running. */
export function readBrokerState(name = 'default'): BrokerState | undefined {
  const runDir = runDirFor(name);
  try {
    const state = JSON.parse(fs.readFileSync(stateFile(runDir), 'utf8')) as BrokerState;
    return isOurBroker(state.pid, runDir) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Stop the broker recorded in run/<name>/ (e.g. one started detached by the CLI). False if none was running. */
export async function stopKafkaBroker(name = 'default', timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<boolean> {
  const runDir = runDirFor(name);
  const state = readBrokerState(name);
  let stopped = false;
  if (state) {
    await terminate(state.pid, timeoutMs);
    stopped = true;
  }
  fs.rmSync(pidFile(runDir), { force: true });
  fs.rmSync(stateFile(runDir), { force: true });
  return stopped;
}

/**
 * Start a single-node KRaft Kafka broker (broker+controller in one JVM) from the Maven Central
 * jars in libs/ (fetched on first use) and resolve once it answers admin.describeCluster().
 */
export async function startKafkaBroker(options: StartKafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const name = options.name ?? 'default';
  const runDir = runDirFor(name);
  const dataDir = path.resolve(options.dataDir ?? path.join(runDir, 'data'));
  const logFile = path.join(runDir, 'broker.log');
  const stdoutFile = path.join(runDir, 'stdout.log');
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const detached = options.detached ?? false;
  const secure = options.secure ? (options.secure === true ? {} : options.secure) : undefined;
  const principals = secure?.principals ?? [];
  validatePrincipals(principals);
  if (principals.some((p) => p.user === ADMIN_USER)) {
    throw new Error(`"${ADMIN_USER}" is the broker's own super user; its password is generated, choose another user name`);
  }

  const running = readBrokerState(name);
  if (running) {
    throw new Error(
      `a Kafka broker named "${name}" is already running (pid ${running.pid}, ${running.brokers.join(',')}); ` +
        `stop it first (npm run kafka:stop) or use another name`,
    );
  }

  const libsDir = await ensureKafkaJars();

  const port = options.port === 0 ? await getFreePort() : (options.port ?? 9092);
  const controllerPort = options.controllerPort || (await getFreePort());
  for (const p of [port, controllerPort]) {
    if (!(await portIsFree(p))) {
      throw new Error(`port ${HOST}:${p} is already in use (another Kafka running? try \`npm run kafka:stop\`)`);
    }
  }

  if (options.fresh) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    for (const f of fs.existsSync(runDir) ? fs.readdirSync(runDir) : []) {
      if (/^(broker|stdout)\.log/.test(f)) fs.rmSync(path.join(runDir, f), { force: true });
    }
  }
  fs.mkdirSync(runDir, { recursive: true });
  const brokers = [`${HOST}:${port}`];
  let clusterId = readClusterId(dataDir);
  const formatted = clusterId !== undefined;

  // Secured mode: TLS files, the admin's password (new with a new cluster), SCRAM users for the format.
  let tls: BrokerTls | undefined;
  let clientSettings: KafkaClientSettings = { brokers };
  let securityProps: Record<string, string | number | boolean> | undefined;
  const formatScram: string[] = [];
  if (secure) {
    tls = await ensureBrokerTls({ dir: path.join(runDir, 'tls'), fresh: options.fresh ?? false });
    const adminPassword = formatted ? readAdminPassword(runDir, dataDir) : randomPassword();
    if (!formatted) {
      for (const user of [{ user: ADMIN_USER, password: adminPassword }, ...principals]) {
        if (user.password !== undefined) {
          formatScram.push('--add-scram', storageToolScramArgument(user.user, scramSha512Credential(user.password)));
        }
      }
    }
    clientSettings = {
      brokers,
      ssl: { caFile: tls.caCertFile },
      sasl: { mechanism: 'scram-sha-512', username: ADMIN_USER, password: adminPassword },
    };
    writeSecret(adminClientFile(runDir), JSON.stringify(clientSettings, null, 2) + '\n');
    writeSecret(adminPasswordFile(runDir), `${adminPassword}\n`);
    securityProps = secureServerProperties({ host: HOST, port, controllerPort, tls, adminPassword });
  }

  const propsFile = path.join(runDir, 'server.properties');
  // In secured mode it holds the store and admin passwords.
  const props = serverProperties({ port, controllerPort, dataDir, security: securityProps, extra: options.properties });
  if (secure) writeSecret(propsFile, props);
  else fs.writeFileSync(propsFile, props);
  fs.writeFileSync(path.join(runDir, 'log4j.properties'), log4jProperties(runDir));

  if (!clusterId) {
    clusterId = randomClusterId();
    fs.mkdirSync(dataDir, { recursive: true });
    await runJava(
      'kafka.tools.StorageTool format',
      jvmArgs(libsDir, runDir, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, ...formatScram]),
      runDir,
    );
  }
  const clientOptions = kafkaClientOptions(clientSettings);
  let child: ChildProcess | undefined;
  let exitInfo: string | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = () => {
    if (child?.pid && exitInfo === undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  const launch = async () => {
    const out = fs.openSync(stdoutFile, 'a');
    exitInfo = undefined;
    const proc = spawn(javaCommand(), jvmArgs(libsDir, runDir, 'kafka.Kafka', [propsFile]), {
      cwd: runDir,
      detached,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    child = proc;
    exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      proc.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    proc.unref();
    if (!detached) process.once('exit', killOnExit);
    try {
      // spawn errors (ENOENT) are reported asynchronously
      await sleep(50);
      if (proc.pid === undefined) throw new Error(`could not start java (${javaCommand()}): ${exitInfo ?? 'no pid'}`);
      fs.writeFileSync(pidFile(runDir), `${proc.pid}\n`);
      const state: BrokerState = {
        name,
        pid: proc.pid,
        port,
        controllerPort,
        brokers,
        dataDir,
        logFile,
        clusterId: clusterId!,
        startedAt: new Date().toISOString(),
        ...(tls ? { secure: { caFile: tls.caCertFile, adminClientFile: adminClientFile(runDir), adminPasswordFile: adminPasswordFile(runDir) } } : {}),
      };
      fs.writeFileSync(stateFile(runDir), JSON.stringify(state, null, 2) + '\n');
      await waitUntilHealthy({
        brokers,
        client: clientOptions,
        clusterId: clusterId!,
        timeoutMs: startTimeoutMs,
        exited: () => exitInfo,
        logFile,
        stdoutFile,
      });
    } catch (err) {
      await shutdown('SIGKILL', 0);
      throw err;
    }
  };

  const shutdown = async (signal: 'SIGTERM' | 'SIGKILL', timeoutMs: number) => {
    const proc = child;
    if (proc?.pid !== undefined && exitInfo === undefined) {
      try {
        proc.kill(signal);
      } catch {
        // already gone
      }
      if (!(await settlesWithin(exited, timeoutMs))) {
        proc.kill('SIGKILL');
        if (!(await settlesWithin(exited, 10_000))) throw new Error(`Kafka broker pid ${proc.pid} survived SIGKILL`);
      }
    }
    process.removeListener('exit', killOnExit);
    fs.rmSync(pidFile(runDir), { force: true });
    fs.rmSync(stateFile(runDir), { force: true });
  };

  await launch();
  if (principals.length > 0) {
    try {
      // Users of a new cluster were written by the format; an existing one gets them through ConfigCommand.
      if (formatted) await provisionKafkaPrincipals(clientSettings, principals);
      else await createPrincipalAcls(clientSettings, principals);
    } catch (err) {
      await shutdown('SIGKILL', 0);
      throw err;
    }
  }

  return {
    brokers,
    get pid() {
      return child?.pid ?? -1;
    },
    port,
    controllerPort,
    name,
    runDir,
    dataDir,
    logFile,
    clusterId,
    secure: secure !== undefined,
    clientSettings,
    ...(tls ? { tls } : {}),
    stop: (o) => shutdown('SIGTERM', o?.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS),
    kill: () => shutdown('SIGKILL', 10_000),
    restart: async () => {
      await shutdown('SIGTERM', DEFAULT_STOP_TIMEOUT_MS);
      await launch();
    },
  };
}
