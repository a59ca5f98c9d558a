/**
 * npm run bench -w @sporbar/access-api — GET /v1/me/disclosures under load, side by side with the
 * same query run directly through pg (the limit the API is measured against).
 *
 * Dataset:
 *   - BENCH_DATABASE=<name>: an existing database with read models under its active prefix (e.g.
 *     sporbar_bench_10m from projections/bench); nothing is generated, written or dropped there.
 *   - otherwise: a fresh database, BENCH_EVENTS disclosures over BENCH_SUBJECTS subjects generated
 *     into the event store and every projection rebuilt from position 0 (both timed), dropped at
 *     the end unless BENCH_KEEP=1 (then rerun with BENCH_DATABASE=<the name printed>).
 * Requests: BENCH_SAMPLE subjects (default 2,000) sampled at random from the read model; every
 * request (API and direct) picks one of them at random. The API runs in a child process configured
 * like src/main.ts (see api-server.ts): JWT, rate limit, helmet, pino at info, response schema and
 * the citizen's ReportViewed event through Kafka (BENCH_SELF_VIEWS=sync awaits it, as before).
 * Runs: both sides saturated (throughput, the API/direct ratio), then both paced at BENCH_RATE req/s
 * (default: half the API's saturated rate) for latency under a steady load.
 * Other knobs: BENCH_SECONDS (20), BENCH_CONNECTIONS (10), BENCH_WARMUP_SECONDS (3), PG_POOL_SIZE (10,
 * both sides), BENCH_PROFILE=<dir> (CPU profile of the API process), KAFKA_BROKERS (else a broker is started),
 * SPORBAR_MASTER_KEY[_ID] (the dataset's master key: the API then opens personal details as in production).
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { kafkaClientOptions, kafkaClientSettingsFromEnv, startKafkaBroker } from '@sporbar/kafka-infra';
import { createPostgresEventStore } from '@sporbar/event-store';
import { activePrefix, allProjections, disclosuresPage, fromPgPool, rebuildReadModels } from '@sporbar/projections';
import { createCodec, register, type DisclosureRecorded } from '@sporbar/schemas';
import { createPseudonymiser, generateSealKeyPair } from '@sporbar/key-store';
import type { SelfViewMode } from '../src/index.ts';
import { devToken } from '../src/index.ts';
import type { ServerConfig } from './api-server.ts';
import { cpuPerUnit, machineCpu } from '../../producer-sdk/bench/machine-cpu.ts';

const env = process.env;
const EVENTS = Number(env['BENCH_EVENTS'] ?? 1_000_000);
const SUBJECTS = Number(env['BENCH_SUBJECTS'] ?? 100_000);
const SECONDS = Number(env['BENCH_SECONDS'] ?? 20);
const WARMUP = Number(env['BENCH_WARMUP_SECONDS'] ?? 3);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 10);
const SAMPLE = Number(env['BENCH_SAMPLE'] ?? 2000);
const POOL = Number(env['PG_POOL_SIZE'] ?? 10);
const SELF_VIEWS: SelfViewMode = env['BENCH_SELF_VIEWS'] === 'sync' ? 'sync' : 'async';
const existing = env['BENCH_DATABASE'];
const adminUrl = env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (...a: unknown[]) => console.error('[api-bench]', ...a);
const random = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
/** Nearest-rank percentile of an ascending array. */
const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
/** A synthetic, well-formed CPR number per index (the API pseudonymises it; api-server.ts maps it to a sampled subject). */
const cpr = (s: number) => `${String(1 + (s % 28)).padStart(2, '0')}${String(1 + (Math.floor(s / 28) % 12)).padStart(2, '0')}${String(Math.floor(s / 336) % 100).padStart(2, '0')}-${String(Math.floor(s / 33600) % 10_000).padStart(4, '0')}`;

if (existing !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(existing)) throw new Error(`BENCH_DATABASE must be a plain database name, got '${existing}'`);
const dbName = existing ?? `sporbar_bench_${randomBytes(4).toString('hex')}`;
const created = existing === undefined;
const keep = env['BENCH_KEEP'] === '1';
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
if (created) await admin.query(`CREATE DATABASE ${dbName}`);
else if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount === 0) throw new Error(`BENCH_DATABASE=${dbName}: no such database`);
const u = new URL(adminUrl);
u.pathname = `/${dbName}`;
const dbUrl = u.toString();
const pool = new pg.Pool({ connectionString: dbUrl, max: POOL });
// DROP DATABASE ... WITH (FORCE) at the end terminates connections pool.end() is still closing;
// without a listener that FATAL is an unhandled 'error' event on the pool (after the figures).
let tearingDown = false;
pool.on('error', (err) => {
  if (!tearingDown) log('idle database connection lost:', err.message);
});
const db = fromPgPool(pool);
// KAFKA_* (plaintext or secured) reuse a running broker; else one is started, secured with KAFKA_SECURE=1.
const external = kafkaClientSettingsFromEnv(env);
const broker = external ? null : await startKafkaBroker({ port: 0, name: `api-bench-${process.pid}`, fresh: true, secure: env['KAFKA_SECURE'] === '1' });
const kafkaSettings = external ?? broker!.clientSettings;
const topic = `api-bench-views-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'sporbar-api-bench-'));
let server: ReturnType<typeof fork> | undefined;
const notes: string[] = [];

try {
  // 1. The dataset.
  let prefix: string;
  if (created) {
    const store = await createPostgresEventStore({ connectionString: dbUrl, poolSize: 4 });
    const codec = createCodec();
    const pseudonymiser = createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') });
    const activities = register.activities.filter((a) => a.flows.length > 0);
    const t0 = Date.now();
    const start = Date.UTC(2026, 0, 1);
    const psn = new Map<number, string>();
    for (let i = 0; i < EVENTS; i += 5000) {
      const byStream = new Map<string, Array<{ eventId: string; type: string; data: Buffer; metadata: Record<string, string> }>>();
      for (let j = i; j < Math.min(EVENTS, i + 5000); j++) {
        const s = (j * 7919) % SUBJECTS;
        if (!psn.has(s)) psn.set(s, pseudonymiser.pseudonym(cpr(s)));
        const a = activities[j % activities.length]!;
        const f = a.flows[j % a.flows.length]!;
        const e: DisclosureRecorded = {
          eventId: randomUUID(),
          occurredAt: (start + Math.floor((j / EVENTS) * 300 * 86_400_000)) * 1000,
          sourceSystem: a.id,
          controllerCvr: '34051178',
          activity: a.id,
          subject: { scheme: 'PSEUDONYM', value: psn.get(s)! },
          recipient: { id: f.recipientId, role: f.roles[0] },
          purpose: f.purposeIds[0]!,
          legalBases: [...f.legalBases],
          dataCategories: [...f.categoryIds],
          transfer: null,
          personalDetails: null,
          correlationId: null,
        };
        const stream = `subject-${e.subject.value}`;
        const list = byStream.get(stream) ?? [];
        list.push({ eventId: e.eventId, type: 'DisclosureRecorded', data: codec.encode('DisclosureRecorded', e), metadata: { classification: 'declared', flow: f.id, retention: f.retentionRuleIds.join(',') } });
        byStream.set(stream, list);
      }
      await store.appendMany([...byStream].map(([streamName, events]) => ({ streamName, events })));
      if (i % 200_000 === 0) log(`generated ${i.toLocaleString('en')}`);
    }
    const generateSeconds = (Date.now() - t0) / 1000;
    log(`generated ${EVENTS.toLocaleString('en')} events in ${generateSeconds.toFixed(0)} s`);
    const rebuilt = await rebuildReadModels({ store, db, codec, projections: allProjections(register), batchSize: 2000 });
    await rebuilt.runner.stop();
    await store.close();
    // Vacuumed, not only analysed: hint bits and the visibility map are set now, so neither measured
    // run pays for the bulk load's clean-up (nor has autovacuum start on the new tables during it).
    await pool.query('VACUUM (ANALYZE)');
    prefix = rebuilt.prefix;
    notes.push(
      `generated ${EVENTS.toLocaleString('en')} events over ${SUBJECTS.toLocaleString('en')} subjects in ${generateSeconds.toFixed(0)} s (${Math.round(EVENTS / generateSeconds).toLocaleString('en')} events/s); ` +
        `rebuilt all read models from position 0 in ${rebuilt.seconds.toFixed(0)} s (${Math.round(Number(rebuilt.events) / rebuilt.seconds).toLocaleString('en')} events/s)`,
    );
  } else {
    const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('read_model_active')::text AS t`);
    if (!rows[0]?.t) throw new Error(`BENCH_DATABASE=${dbName} has no read_model_active table: no read models to measure`);
    prefix = await activePrefix(db);
  }
  const table = `${prefix}subject_disclosures`;
  const { rows: est } = await pool.query<{ n: number | null }>('SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass($1)', [table]);
  if (est[0] === undefined) throw new Error(`${dbName}: no table ${table} (active prefix ${prefix})`);
  const rowsEstimate = Math.max(0, est[0].n ?? 0);

  // 2. Subjects at random: the distinct subjects of a random sample of the table's blocks, shuffled.
  const percent = rowsEstimate > 0 ? Math.min(100, Math.max(0.001, ((SAMPLE * 20) / rowsEstimate) * 100)) : 100;
  const { rows: sampled } = await pool.query<{ subject: string }>(`SELECT DISTINCT subject FROM ${table} TABLESAMPLE SYSTEM (${percent.toFixed(4)})`);
  const subjects = sampled.map((r) => r.subject).sort(() => Math.random() - 0.5).slice(0, SAMPLE);
  if (subjects.length === 0) throw new Error(`${dbName}: ${table} is empty`);
  log(`${subjects.length.toLocaleString('en')} subjects sampled from ${dbName}.${table} (~${Math.round(rowsEstimate).toLocaleString('en')} rows)`);

  // 3. The API in its own process.
  const { Kafka, logLevel } = await import('kafkajs');
  const kafkaAdmin = new Kafka({ ...kafkaClientOptions(kafkaSettings), logLevel: logLevel.NOTHING }).admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  const seal = await generateSealKeyPair();
  const profileDir = env['BENCH_PROFILE'];
  server = fork(fileURLToPath(new URL('./api-server.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tokens = subjects.map((_, i) => `Bearer ${devToken({ role: 'citizen', sub: `bench-citizen-${i}`, cpr: cpr(i) })}`);
  const config: ServerConfig = {
    dbUrl,
    prefix,
    subjects: Object.fromEntries(subjects.map((s, i) => [cpr(i), s])),
    kafka: kafkaSettings,
    topic,
    spoolDir: join(work, 'spool'),
    logFile: join(work, 'api.log'),
    sealPublicKey: seal.publicKey,
    selfViews: SELF_VIEWS,
  };
  const child = server;
  child.on('error', (e) => log('api server:', e.message));
  /** The server's next message; rejects if it exits first. */
  const reply = <T>() =>
    new Promise<T>((resolve, reject) => {
      const exit = (code: number | null) => reject(new Error(`the API server exited (code ${code}) before answering`));
      child.once('exit', exit);
      child.once('message', (m) => {
        child.off('exit', exit);
        resolve(m as T);
      });
    });
  const started = reply<{ address: string }>();
  child.send(config);
  const { address } = await started;

  const api = (seconds: number) =>
    autocannon({
      url: address,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [{ method: 'GET', path: '/v1/me/disclosures?limit=50', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: random(tokens) } }) }],
    });
  /**
   * CONNECTIONS loops calling `call` for `seconds`: as fast as they can, or paced to `rate` calls per
   * second overall (each call has its slot; latency is measured from when it starts).
   */
  const loops = async (seconds: number, call: () => Promise<unknown>, rate?: number) => {
    const latencies: number[] = [];
    let failures = 0;
    const until = Date.now() + seconds * 1000;
    const t0 = performance.now();
    let slot = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          if (rate) {
            const wait = t0 + (slot++ * 1000) / rate - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (Date.now() >= until) break;
          }
          const t = performance.now();
          try {
            await call();
            latencies.push(performance.now() - t);
          } catch {
            failures++;
          }
        }
      }),
    );
    return { rps: latencies.length / ((performance.now() - t0) / 1000), sorted: latencies.sort((x, y) => x - y), failures };
  };
  const direct = (seconds: number, rate?: number) => loops(seconds, () => disclosuresPage(db, [random(subjects)], { limit: 50 }, prefix), rate);
  // Paced HTTP requests (autocannon's overallRate sends each second's quota in a burst, so its latencies are the saturated ones).
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${address}/v1/me/disclosures?limit=50`, { agent, headers: { authorization: random(tokens) } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  const apiPaced = (seconds: number, rate: number) => loops(seconds, get, rate);

  // 4. Warm both sides up (JIT, pools, caches), then measure: direct first, then the API.
  const load = loadavg()[0]!.toFixed(1);
  const warm = await api(WARMUP);
  await direct(WARMUP);
  /** The API process's CPU time so far (µs) and its event-loop delay since the last call. */
  const cpu = async () => {
    const answer = reply<{ cpu: NodeJS.CpuUsage; loopDelayMs: { p50: number; p99: number; max: number } }>();
    child.send('cpu');
    const { cpu: c, loopDelayMs } = await answer;
    return { us: c.user + c.system, loopDelayMs };
  };
  let own = process.cpuUsage();
  const machine0 = machineCpu(child.pid === undefined ? {} : { [child.pid]: 'API' });
  const d = await direct(SECONDS);
  const directCpu = process.cpuUsage(own);
  const machine1 = machineCpu(child.pid === undefined ? {} : { [child.pid]: 'API' });
  const serverBefore = (await cpu()).us;
  own = process.cpuUsage();
  const a = await api(SECONDS);
  const clientCpu = process.cpuUsage(own);
  const serverCpu = (await cpu()).us - serverBefore;
  const machine2 = machineCpu(child.pid === undefined ? {} : { [child.pid]: 'API' });
  // Latency at a steady load below saturation (default: half what the API managed).
  const rate = Number(env['BENCH_RATE'] ?? Math.max(1, Math.round((a.requests.total / a.duration) * 0.5)));
  const dPaced = await direct(SECONDS, rate);
  await cpu();
  const aPaced = await apiPaced(SECONDS, rate);
  const pacedLoop = (await cpu()).loopDelayMs;
  agent.destroy();
  const stopped = reply<{ metrics: string }>();
  const exited = once(child, 'exit');
  child.send('stop');
  const { metrics } = await stopped;
  await exited;
  server = undefined;
  await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await kafkaAdmin.disconnect();

  const metric = (name: string, labels = '') => [...metrics.matchAll(new RegExp(`^${name}\\{?([^}\\s]*)\\}? (\\S+)$`, 'gm'))].filter((m) => m[1]!.includes(labels)).reduce((n, m) => n + Number(m[2]), 0);
  const answered = warm['2xx'] + a['2xx'] + aPaced.sorted.length;
  const viewsRecorded = metric('sporbar_api_views_recorded_total', 'role="citizen"');
  const viewFailures = metric('sporbar_api_view_record_failures_total');
  const hits = metric('sporbar_api_token_cache_total', 'result="hit"');
  const misses = metric('sporbar_api_token_cache_total', 'result="miss"');
  const apiRps = a.requests.total / a.duration;
  const f = (n: number) => n.toFixed(2);

  console.log(`\n### GET /v1/me/disclosures vs the same query through pg\n`);
  console.log(`Dataset: \`${dbName}\` (${created ? 'generated by this run' : 'existing'}), table \`${table}\` ~${Math.round(rowsEstimate).toLocaleString('en')} rows; ${subjects.length.toLocaleString('en')} subjects sampled at random, one picked at random per request, limit=50.`);
  if (notes.length) console.log(`${notes.join('\n')}.`);
  console.log(
    `${CONNECTIONS} connections, ${SECONDS} s per run after ${WARMUP} s warm-up, pg pool ${POOL} on both sides, ${availableParallelism()} cores shared by load generator, API, PostgreSQL and Kafka (load average ${load} at start); self-views ${SELF_VIEWS}. ` +
      `API: JWT (cached per token), rate limit, helmet headers, one log line, ReportViewed, response schema. autocannon (saturated API run) reports whole milliseconds.\n`,
  );
  const apiRow = (name: string, r: autocannon.Result) => `| ${name} | ${Math.round(r.requests.total / r.duration).toLocaleString('en')} | ${f(r.latency.p50)} | ${f(r.latency.p97_5)} | ${f(r.latency.p99)} | ${r.errors + r.non2xx + r.timeouts} |`;
  const loopRow = (name: string, r: { rps: number; sorted: number[]; failures: number }) => `| ${name} | ${Math.round(r.rps).toLocaleString('en')} | ${f(pct(r.sorted, 50))} | ${f(pct(r.sorted, 97.5))} | ${f(pct(r.sorted, 99))} | ${r.failures} |`;
  console.log('| run | req/s | p50 ms | p97.5 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(apiRow('API, GET /v1/me/disclosures, saturated', a));
  console.log(loopRow('direct, disclosuresPage() through pg, saturated', d));
  console.log(`| **API / direct (throughput)** | **${(apiRps / d.rps).toFixed(2)}** | | | | |`);
  console.log(loopRow(`API at ${rate.toLocaleString('en')} req/s (paced, node:http keep-alive)`, aPaced));
  console.log(loopRow(`direct at ${rate.toLocaleString('en')} req/s (paced)`, dPaced));
  const perRequest = (us: number, n: number) => `${Math.round(us / n)} µs`;
  console.log(
    `\nCPU per request: API process ${perRequest(serverCpu, a.requests.total)}, load generator ${perRequest(clientCpu.user + clientCpu.system, a.requests.total)}; ` +
      `direct: Node side of the query ${perRequest(directCpu.user + directCpu.system, d.sorted.length)} (PostgreSQL's share not included). ` +
      `API event-loop delay during the paced run: p50 ${f(pacedLoop.p50)} ms, p99 ${f(pacedLoop.p99)} ms, max ${f(pacedLoop.max)} ms.`,
  );
  if (Object.keys(machine0).length > 0) {
    console.log(
      `Machine CPU per request (µs, from /proc; "client" is autocannon in the API run, the pg client in the direct run; PostgreSQL = machine − the others): ` +
        `API run: ${cpuPerUnit(machine1, machine2, a.requests.total, ['API'])}; direct run: ${cpuPerUnit(machine0, machine1, d.sorted.length, ['API'])}.`,
    );
  }
  console.log(
    `\nReportViewed: ${viewsRecorded.toLocaleString('en')} recorded for ${answered.toLocaleString('en')} answered requests (warm-up included), ${viewFailures} failed. ` +
      `Token cache: ${hits.toLocaleString('en')} hits, ${misses.toLocaleString('en')} misses.`,
  );
  // Requests still in flight when autocannon stops are recorded but not counted as answered.
  if (viewsRecorded + viewFailures < answered) console.log(`WARNING: ${answered - viewsRecorded - viewFailures} answered requests without a recorded view`);
} finally {
  tearingDown = true;
  if (server) server.kill();
  await pool.end();
  if (created && !keep) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  else if (created) log(`kept database ${dbName}: rerun with BENCH_DATABASE=${dbName}`);
  await admin.end();
  await broker?.stop();
  if (broker) rmSync(broker.runDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
