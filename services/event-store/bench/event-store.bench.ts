/**
 * Event store benchmark: npm run bench -w @sporbar/event-store
 *
 * Side by side, single writer, ~300 random bytes per event (like an Avro-encoded disclosure):
 *   - append throughput of the postgres and pglite adapters at batch sizes 1, 100, 1000, and of the
 *     postgres adapter's appendMany as the ingest calls it (1,000 events over 1,000 streams per call);
 *   - baselines on the same PostgreSQL database: server-side COPY of the same rows into a table with
 *     the same columns and indexes (COPY ... FROM '<file>', the file written beforehand, not timed),
 *     and @event-driven-io/emmett-postgresql appending the same events in the same batch sizes;
 *   - global-log read throughput;
 *   - RSS while streaming BENCH_EVENTS (default 1,000,000) events from the global log.
 * Env: DATABASE_URL, BENCH_EVENTS (read test), BENCH_APPEND_EVENTS (per batched run, default 100,000),
 *      BENCH_SINGLE_EVENTS (batch-size-1 runs, default 3,000).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { createPgliteEventStore, createPostgresEventStore, type EventStore, type EventToAppend } from '../src/index.ts';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const READ_EVENTS = env('BENCH_EVENTS', 1_000_000);
const APPEND_EVENTS = env('BENCH_APPEND_EVENTS', 100_000);
const SINGLE_EVENTS = env('BENCH_SINGLE_EVENTS', 3_000);
const BATCH_SIZES = [1, 100, 1000] as const;
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const makeEvents = (n: number): EventToAppend[] =>
  Array.from({ length: n }, () => ({
    eventId: randomUUID(),
    type: 'DisclosureRecorded',
    data: new Uint8Array(randomBytes(300)),
    metadata: { fingerprint: 'f00dfeed' },
  }));
const countFor = (batch: number) => (batch === 1 ? SINGLE_EVENTS : APPEND_EVENTS);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number | undefined) => (n === undefined ? '-' : n.toLocaleString('en-US'));
const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '-');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Appends `events` in batches, round-robin over 100 streams; returns events/s. */
async function timeAppends(append: (stream: string, batch: EventToAppend[]) => Promise<unknown>, events: EventToAppend[], batch: number) {
  const started = performance.now();
  for (let i = 0, k = 0; i < events.length; i += batch, k++) await append(`bench-${k % 100}`, events.slice(i, i + batch));
  return rate(events.length, performance.now() - started);
}

async function timeRead(store: EventStore): Promise<{ events: number; perSecond: number }> {
  const started = performance.now();
  let n = 0;
  for await (const e of store.readAll({ batchSize: 1000 })) if (e.data.byteLength > 0) n++;
  return { events: n, perSecond: rate(n, performance.now() - started) };
}

const csvRow = (e: EventToAppend, pos: number, stream: string, rev: number) =>
  `${pos},${e.eventId},${stream},${rev},${e.type},\\x${Buffer.from(e.data).toString('hex')},"{""fingerprint"": ""f00dfeed""}",${new Date().toISOString()}\n`;

/** Server-side COPY of the same rows (files prepared first, only the COPY statements are timed). */
async function timeCopy(pool: pg.Pool, events: EventToAppend[], chunk: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'sporbar-copy-'));
  await chmod(dir, 0o755);
  try {
    const files: string[] = [];
    for (let i = 0; i < events.length; i += chunk) {
      const file = join(dir, `chunk-${i}.csv`);
      await writeFile(file, events.slice(i, i + chunk).map((e, j) => csvRow(e, i + j + 1, `bench-${(i / chunk) % 100}`, i + j)).join(''));
      await chmod(file, 0o644);
      files.push(file);
    }
    await pool.query('TRUNCATE copy_baseline');
    const started = performance.now();
    for (const f of files) await pool.query(`COPY copy_baseline FROM '${f}' WITH (FORMAT csv)`);
    return rate(events.length, performance.now() - started);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Row {
  system: string;
  batch: number | string;
  events: number;
  perSecond: number;
}

async function main() {
  const dbName = `sporbar_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const dbUrl = url.toString();
  const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
  const rows: Row[] = [];
  const log = (s: string) => console.log(`[bench] ${s}`);
  log(`PostgreSQL ${dbName}; ${fmt(SINGLE_EVENTS)} events at batch 1, ${fmt(APPEND_EVENTS)} per batched run, ${fmt(READ_EVENTS)} for the read/RSS test`);
  try {
    // --- global read + RSS while streaming READ_EVENTS events
    const store = await createPostgresEventStore({ pool, schema: 'bench_read' });
    const fillStarted = performance.now();
    for (let written = 0, k = 0; written < READ_EVENTS; k++) {
      const n = Math.min(1000, READ_EVENTS - written);
      await store.append(`fill-${k % 1000}`, makeEvents(n));
      written += n;
    }
    const fillRate = rate(READ_EVENTS, performance.now() - fillStarted);
    log(`filled ${fmt(READ_EVENTS)} events at ${fmt(fillRate)} events/s (postgres adapter, batch 1000)`);
    (globalThis as { gc?: () => void }).gc?.(); // start from a collected heap (npm run bench passes --expose-gc)
    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const read = await timeRead(store);
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const rssEnd = process.memoryUsage().rss;
    rows.push({ system: 'postgres readAll (cold: first read sets hint bits)', batch: 'read 1000', events: read.events, perSecond: read.perSecond });
    const warm = await timeRead(store);
    rows.push({ system: 'postgres readAll (warm)', batch: 'read 1000', events: warm.events, perSecond: warm.perSecond });
    await store.close();
    // keep autovacuum and the checkpointer of the 1M-row fill out of the append measurements
    await pool.query('DROP SCHEMA bench_read CASCADE');
    await pool.query('CHECKPOINT');

    // --- postgres adapter
    for (const batch of BATCH_SIZES) {
      const store = await createPostgresEventStore({ pool, schema: `bench_pg_${batch}` });
      const events = makeEvents(countFor(batch));
      rows.push({ system: 'postgres adapter', batch, events: events.length, perSecond: await timeAppends((s, b) => store.append(s, b), events, batch) });
      log(`postgres batch ${batch}: ${fmt(rows.at(-1)!.perSecond)} events/s`);
      await store.close();
    }
    {
      // The ingest's shape: appendMany of 1,000 events over 1,000 streams per call (one subject each).
      const store = await createPostgresEventStore({ pool, schema: 'bench_pg_many' });
      const events = makeEvents(APPEND_EVENTS);
      const started = performance.now();
      for (let i = 0; i < events.length; i += 1000) await store.appendMany(events.slice(i, i + 1000).map((e, j) => ({ streamName: `subject-${i + j}`, events: [e] })));
      rows.push({ system: 'postgres adapter, appendMany over 1,000 streams (the ingest)', batch: 1000, events: events.length, perSecond: rate(events.length, performance.now() - started) });
      log(`postgres appendMany 1000 streams: ${fmt(rows.at(-1)!.perSecond)} events/s`);
      await store.close();
    }
    // --- pglite adapter (in memory, in process)
    for (const batch of BATCH_SIZES) {
      const store = await createPgliteEventStore();
      const events = makeEvents(countFor(batch));
      rows.push({ system: 'pglite adapter', batch, events: events.length, perSecond: await timeAppends((s, b) => store.append(s, b), events, batch) });
      log(`pglite batch ${batch}: ${fmt(rows.at(-1)!.perSecond)} events/s`);
      if (batch === 1000) {
        const r = await timeRead(store);
        rows.push({ system: 'pglite readAll', batch: 'read 1000', events: r.events, perSecond: r.perSecond });
      }
      await store.close();
    }
    // --- Emmett (the peer), same events, same batch sizes; JSON events, so the bytes go base64
    const emmett = getPostgreSQLEventStore(dbUrl);
    for (const batch of BATCH_SIZES) {
      const events = makeEvents(countFor(batch));
      const perSecond = await timeAppends(
        (s, b) =>
          emmett.appendToStream(
            `${s}-${batch}`,
            b.map((e) => ({ type: e.type, data: { avro: Buffer.from(e.data).toString('base64') }, metadata: { eventId: e.eventId } })),
          ),
        events,
        batch,
      );
      rows.push({ system: 'emmett-postgresql', batch, events: events.length, perSecond });
      log(`emmett batch ${batch}: ${fmt(perSecond)} events/s`);
    }
    await emmett.close();
    // --- COPY baseline into a table with the same columns and indexes as the adapter's
    await pool.query('CREATE TABLE copy_baseline (LIKE bench_pg_1000.events INCLUDING ALL)');
    for (const chunk of [100, 1000]) {
      const perSecond = await timeCopy(pool, makeEvents(APPEND_EVENTS), chunk);
      rows.push({ system: 'COPY FROM file (server-side)', batch: chunk, events: APPEND_EVENTS, perSecond });
      log(`COPY ${chunk}-row files: ${fmt(perSecond)} events/s`);
    }
    const allAtOnce = await timeCopy(pool, makeEvents(APPEND_EVENTS), APPEND_EVENTS);
    rows.push({ system: 'COPY FROM file (server-side)', batch: `all ${fmt(APPEND_EVENTS)}`, events: APPEND_EVENTS, perSecond: allAtOnce });
    log(`COPY one ${fmt(APPEND_EVENTS)}-row file: ${fmt(allAtOnce)} events/s`);

    // --- the table
    const copyAt = (batch: number | string) => rows.find((r) => r.system.startsWith('COPY') && r.batch === batch)?.perSecond;
    const emmettAt = (batch: number | string) => rows.find((r) => r.system === 'emmett-postgresql' && r.batch === batch)?.perSecond;
    console.log('\nAppend and read throughput (single writer, ~300-byte events)');
    console.table(
      rows.map((r) => ({
        system: r.system,
        batch: r.batch,
        events: fmt(r.events),
        'events/s': fmt(r.perSecond),
        'vs COPY (same chunk)': r.system.includes('adapter') ? ratio(r.perSecond, copyAt(r.batch)) : '-',
        'vs COPY (all at once)': r.system.includes('adapter') ? ratio(r.perSecond, allAtOnce) : '-',
        'vs Emmett': r.system.includes('adapter') ? ratio(r.perSecond, emmettAt(r.batch)) : '-',
      })),
    );
    console.log(
      `RSS while streaming ${fmt(read.events)} events from the global log: start ${mb(rssStart)}, peak ${mb(rssPeak)} (+${mb(rssPeak - rssStart)}), end ${mb(rssEnd)}`,
    );
    const pg1000 = rows.find((r) => r.system === 'postgres adapter' && r.batch === 1000)!.perSecond;
    console.log(
      `Targets: postgres batch 1000 >= 20,000 events/s: ${pg1000 >= 20_000 ? 'met' : 'MISSED'} (${fmt(pg1000)}); ` +
        `>= 0.5× COPY (1000-row chunks): ${pg1000 >= 0.5 * (copyAt(1000) ?? Infinity) ? 'met' : 'MISSED'} (${ratio(pg1000, copyAt(1000))})`,
    );
  } finally {
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

await main();
