/**
 * npm run bench -w @sporbar/projections — read-model catch-up on PostgreSQL: every read model
 * rebuilt from position 0 of a realistic log, side by side in one run with what the server does
 * when it only has to store rows:
 *   - a server-side COPY of the main read model's rows (subject_disclosures, one per disclosure)
 *     into a table with the same columns and indexes (the file is written beforehand, not timed);
 *   - INSERT ... SELECT of the same rows, server-side, into another such table.
 *
 * The log is generated once (bench/generate.ts, through the event store's appendMany) into the
 * database BENCH_DB and reused while its marker table says it has the requested size. The database
 * is left in place with the rebuilt read models active (the access API's bench queries it).
 *
 * Env: DATABASE_URL (admin connection, default postgres://postgres@127.0.0.1:5432/test),
 *      BENCH_EVENTS (default 1,000,000), BENCH_SUBJECTS (default 100,000), BENCH_DB (default
 *      sporbar_bench_10m), BENCH_BATCH (events per catch-up transaction, default 5,000),
 *      BENCH_REGENERATE=1 (generate even when the marker matches).
 * Full run: BENCH_EVENTS=10000000 BENCH_SUBJECTS=1000000 npm run bench -w @sporbar/projections
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresEventStore } from '@sporbar/event-store';
import { createCodec, register } from '@sporbar/schemas';
import { allProjections, dropReadModelTables, fromPgPool, rebuildReadModels } from '../src/index.ts';
import { generateEvents } from './generate.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const SUBJECTS = Number(process.env['BENCH_SUBJECTS'] ?? 100_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 5000);
const DB = process.env['BENCH_DB'] ?? 'sporbar_bench_10m';
const SEED = 2026;
/** Bump when the generator's output changes, so an old dataset is not reused. */
const GENERATOR_VERSION = 1;
const adminUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
if (!/^[a-z_][a-z0-9_]*$/.test(DB)) throw new Error(`BENCH_DB must be a plain identifier, got ${DB}`);

const log = (...a: unknown[]) => console.error('[catch-up-bench]', ...a);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

async function adminQuery<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

interface Marker {
  events: string;
  subjects: string;
  seed: number;
  generator_version: number;
  seconds: number;
  per_second: number;
}

/** The dataset's marker, if the database holds a complete one. */
async function readMarker(pool: pg.Pool): Promise<Marker | undefined> {
  try {
    const { rows } = await pool.query<Marker>('SELECT events::text, subjects::text, seed, generator_version, seconds, per_second FROM bench_dataset');
    const head = await pool.query<{ last: string }>('SELECT last::text FROM sporbar.positions WHERE id = 1');
    return rows[0] && head.rows[0]?.last === rows[0].events ? rows[0] : undefined;
  } catch {
    return undefined;
  }
}

// ---- the dataset ----
const exists = (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).length > 0;
if (!exists) await adminQuery(`CREATE DATABASE ${DB}`);
let pool = new pg.Pool({ connectionString: withDatabase(adminUrl, DB), max: 6 });
pool.on('error', () => undefined);
let marker = await readMarker(pool);
const matches = marker && Number(marker.events) === EVENTS && Number(marker.subjects) === SUBJECTS && marker.seed === SEED && marker.generator_version === GENERATOR_VERSION;
let generated: { seconds: number; perSecond: number; fresh: boolean };
if (matches && process.env['BENCH_REGENERATE'] !== '1') {
  log(`reusing the dataset in ${DB}: ${fmt(EVENTS)} events over ${fmt(SUBJECTS)} subjects`);
  generated = { seconds: marker!.seconds, perSecond: marker!.per_second, fresh: false };
} else {
  if (marker) log(`replacing the dataset in ${DB} (${fmt(Number(marker.events))} events over ${fmt(Number(marker.subjects))} subjects)`);
  await pool.end();
  await adminQuery(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${DB}`);
  pool = new pg.Pool({ connectionString: withDatabase(adminUrl, DB), max: 6 });
  pool.on('error', () => undefined);
  log(`generating ${fmt(EVENTS)} events over ${fmt(SUBJECTS)} subjects into ${DB} ...`);
  let next = 0.1;
  const result = await generateEvents({
    pool,
    events: EVENTS,
    subjects: SUBJECTS,
    seed: SEED,
    onProgress: (n) => {
      if (n < next * EVENTS) return;
      log(`  ${fmt(n)} events (${Math.round((n / EVENTS) * 100)}%)`);
      next += 0.1;
    },
  });
  log(`generated in ${result.seconds.toFixed(1)} s (${fmt(result.perSecond)} events/s):`, result.byType);
  await pool.query(`CREATE TABLE bench_dataset (events bigint, subjects bigint, seed int, generator_version int, seconds float8, per_second float8, generated_at timestamptz DEFAULT now())`);
  await pool.query('INSERT INTO bench_dataset (events, subjects, seed, generator_version, seconds, per_second) VALUES ($1, $2, $3, $4, $5, $6)', [EVENTS, SUBJECTS, SEED, GENERATOR_VERSION, result.seconds, result.perSecond]);
  marker = await readMarker(pool);
  if (!marker) throw new Error('the generated dataset is incomplete');
  generated = { seconds: result.seconds, perSecond: result.perSecond, fresh: true };
  await pool.query('VACUUM ANALYZE sporbar.events');
}

// ---- catch-up: every read model from position 0 ----
const store = await createPostgresEventStore({ pool });
const db = fromPgPool(pool);
const projections = allProjections(register);
await pool.query('CHECKPOINT'); // start both measurements without the generator's dirty pages pending
const load0 = loadavg()[0]!;
const backendTicks = async (): Promise<number | undefined> => {
  // PostgreSQL CPU of this database's backends, when the server runs here (/proc readable).
  try {
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    return rows.reduce((sum, r) => {
      const f = readFileSync(`/proc/${r.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + Number(f[11]) + Number(f[12]);
    }, 0);
  } catch {
    return undefined;
  }
};
log(`catching up from position 0 (batch ${fmt(BATCH)}) ...`);
const cpu0 = process.cpuUsage();
const ticks0 = await backendTicks();
const rebuilt = await rebuildReadModels({ store, db, codec: createCodec(), projections, batchSize: BATCH, onError: (e) => log('projection failed', e) });
const cpu = process.cpuUsage(cpu0);
const ticks1 = await backendTicks();
await rebuilt.runner.stop();
const caughtUp = Number(rebuilt.events);
log(`caught up with ${fmt(caughtUp)} events in ${rebuilt.catchUpSeconds.toFixed(1)} s; query indexes and switch-over took ${(rebuilt.seconds - rebuilt.catchUpSeconds).toFixed(1)} s`);
if (rebuilt.previous !== rebuilt.prefix) await dropReadModelTables(db, projections, rebuilt.previous);

// ---- baselines: the same rows, stored by the server alone ----
const main = `${rebuilt.prefix}subject_disclosures`;
const rows = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${main}`)).rows[0]!.n);
const dir = mkdtempSync(join(tmpdir(), 'sporbar-catch-up-'));
chmodSync(dir, 0o777); // the server process writes and reads the file
const file = join(dir, 'rows.copy');
await pool.query(`COPY ${main} TO '${file}'`);
await pool.query('DROP TABLE IF EXISTS bench_copy_baseline, bench_insert_baseline');
await pool.query(`CREATE TABLE bench_copy_baseline (LIKE ${main} INCLUDING ALL)`);
await pool.query(`CREATE TABLE bench_insert_baseline (LIKE ${main} INCLUDING ALL)`);
await pool.query('CHECKPOINT');
let t0 = performance.now();
await pool.query(`COPY bench_copy_baseline FROM '${file}'`);
const copySeconds = (performance.now() - t0) / 1000;
rmSync(dir, { recursive: true, force: true });
await pool.query('CHECKPOINT');
t0 = performance.now();
await pool.query(`INSERT INTO bench_insert_baseline SELECT * FROM ${main}`);
const insertSeconds = (performance.now() - t0) / 1000;
await pool.query('DROP TABLE bench_copy_baseline, bench_insert_baseline');
const load1 = loadavg()[0]!;
await store.close();
await pool.end();

// ---- report ----
const perSecond = caughtUp / rebuilt.seconds;
const cpuNote = ticks0 !== undefined && ticks1 !== undefined ? `; CPU: node ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s, PostgreSQL ${((ticks1 - ticks0) / 100).toFixed(0)} s` : '';
console.log(`
### Read-model catch-up on PostgreSQL: ${fmt(EVENTS)} events over ${fmt(SUBJECTS)} subjects

| | rows | seconds | per second | vs catch-up |
| --- | ---: | ---: | ---: | ---: |
| generate the log (appendMany, 5,000 per call${generated.fresh ? '' : ', earlier run'}) | ${fmt(EVENTS)} events | ${generated.seconds.toFixed(1)} | ${fmt(generated.perSecond)} events/s | |
| **catch-up: all 6 read models from position 0** (batch ${fmt(BATCH)}) | ${fmt(caughtUp)} events | ${rebuilt.seconds.toFixed(1)} | **${fmt(perSecond)} events/s** | 1.00× |
| &nbsp;&nbsp;of which replay until caught up | | ${rebuilt.catchUpSeconds.toFixed(1)} | ${fmt(caughtUp / rebuilt.catchUpSeconds)} events/s | |
| &nbsp;&nbsp;of which query indexes + switch-over | | ${(rebuilt.seconds - rebuilt.catchUpSeconds).toFixed(1)} | | |
| baseline: COPY of the subject_disclosures rows, same columns and indexes | ${fmt(rows)} rows | ${copySeconds.toFixed(1)} | ${fmt(rows / copySeconds)} rows/s | ${((rows / copySeconds) / perSecond).toFixed(2)}× |
| baseline: INSERT … SELECT of the same rows, server-side | ${fmt(rows)} rows | ${insertSeconds.toFixed(1)} | ${fmt(rows / insertSeconds)} rows/s | ${((rows / insertSeconds) / perSecond).toFixed(2)}× |

Catch-up writes 7 tables (one row per disclosure, upserted summaries per subject and recipient, daily
counts, retention schedule, consents, alerts, access log) in one transaction per batch with the
checkpoint; the baselines write one. Load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${cpus().length} CPUs${cpuNote}.

Database: ${DB} (read models active under prefix ${rebuilt.prefix}; left in place)`);
