/**
 * Tile serving, side by side: `sporbar-log` (a real process over PostgreSQL) against a static file
 * server on the same machine serving the same tiles at their C2SP paths: nginx (Debian's, one worker,
 * as a non-daemon with a generated configuration) when it is installed, else a Node `http` +
 * `fs.createReadStream` server (said so in the output). Rounds alternate A B A B with the same load
 * (autocannon, keep-alive, same connections, cycling over the same tile paths); prints requests/s,
 * latency p50/p99, the ratio, and the load average.
 *
 *   npm run bench -w @sporbar/log            (PostgreSQL at DATABASE_URL or 127.0.0.1:5432)
 *   BENCH_LEAVES=20000 BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_CONNECTIONS=16
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as netServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import { formatTilePath, tilesOf } from '@sporbar/auditor';
import { checkpointKeyFiles, createTestDatabase, disclosure, dropTestDatabase, logEnv, openStore, probePostgres, startLogProcess, toAppend, waitFor } from '../test/support.ts';

const LEAVES = Number(process.env['BENCH_LEAVES'] ?? 20_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const nginxPath = (() => {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      statSync(p);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
})();

const TICKS_PER_SECOND = 100; // Linux USER_HZ
/** CPU time (user + system, in seconds) the processes used so far, from /proc/<pid>/stat. */
function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  }
  return ticks / TICKS_PER_SECOND;
}
/** The pids whose parent is `ppid` (nginx's workers). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** nginx, one worker, serving `root` with the log's headers; or Node's http + createReadStream when nginx is absent. */
async function startStatic(root: string, work: string): Promise<{ name: string; url: string; pids: number[]; stop: () => Promise<void> }> {
  const port = await freePort();
  if (nginxPath) {
    const conf = join(work, 'nginx.conf');
    writeFileSync(
      conf,
      `worker_processes 1;
daemon off;
pid ${join(work, 'nginx.pid')};
error_log ${join(work, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${work}/client_body; proxy_temp_path ${work}/proxy; fastcgi_temp_path ${work}/fastcgi; uwsgi_temp_path ${work}/uwsgi; scgi_temp_path ${work}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /tile/ { default_type application/octet-stream; add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
`,
    );
    const child: ChildProcess = spawn(nginxPath, ['-c', conf, '-p', work], { stdio: ['ignore', 'ignore', 'inherit'] });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/tile/0/000`).catch(() => undefined))?.status === 200, 10_000, 'nginx').catch((err: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`nginx did not serve the tiles: ${(err as Error).message}; ${readFileSync(join(work, 'nginx-error.log'), 'utf8')}`);
    });
    return {
      name: 'nginx (1 worker)',
      url,
      pids: [child.pid!, ...childrenOf(child.pid!)],
      stop: async () => {
        child.kill('SIGQUIT');
        await new Promise((r) => child.once('exit', r));
      },
    };
  }
  const server: Server = createServer((req, res) => {
    const path = join(root, (req.url ?? '/').split('?')[0]!);
    if (!path.startsWith(root) || !/^\/tile\//.test(req.url ?? '')) return void res.writeHead(404).end();
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'cache-control': 'public, max-age=31536000, immutable' });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { name: 'node http + fs.createReadStream (nginx not installed)', url: `http://127.0.0.1:${port}`, pids: [], stop: () => new Promise((r) => server.close(() => r())) };
}

interface Round {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  /** The server's CPU time per request, µs (NaN when it runs in this process). */
  readonly cpuUs: number;
}

async function load(url: string, paths: string[], pids: readonly number[]): Promise<Round> {
  const cpu0 = pids.length ? cpuSeconds(pids) : NaN;
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests: paths.map((path) => ({ method: 'GET' as const, path })) });
  const cpu = pids.length ? cpuSeconds(pids) - cpu0 : NaN;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, cpuUs: (cpu / r.requests.total) * 1e6 };
}

const pg = await probePostgres();
console.log(`load average (1, 5, 15 min) at the start: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
if (!pg.url) {
  console.error(`tiles bench: no PostgreSQL (${pg.skip ?? 'unreachable'})`);
  process.exit(1);
}
const db = await createTestDatabase(pg.url);
const store = await openStore(db.url);
const work = mkdtempSync(join(tmpdir(), 'sporbar-tiles-bench-'));
chmodSync(work, 0o755); // nginx's worker (nobody, when started as root) reads the tiles under it
const root = join(work, 'www');
let log: ReturnType<typeof startLogProcess> | undefined;
let staticServer: Awaited<ReturnType<typeof startStatic>> | undefined;
try {
  const t0 = performance.now();
  for (let from = 0; from < LEAVES; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, LEAVES - from) }, (_, i) => disclosure(from + i));
    await store.appendMany(batch.map((d) => ({ streamName: `subject-${d.subject.value}`, events: [toAppend(d)] })));
  }
  const key = checkpointKeyFiles();
  log = startLogProcess(logEnv(db.url, key.keyFile, { SPORBAR_CHECKPOINT_EVERY_EVENTS: String(LEAVES + 10) }));
  const base = await log.ready;
  const checkpoint = await waitFor(async () => {
    const r = await fetch(`${base}/checkpoint`);
    if (r.status !== 200) return undefined;
    const text = await r.text();
    return Number(text.split('\n')[1]) >= LEAVES ? text : undefined;
  }, 120_000, `a checkpoint of ${LEAVES} leaves`);
  const size = Number(checkpoint.split('\n')[1]);

  // The same tiles, fetched from the log, written at their C2SP paths.
  const paths: string[] = [];
  for (const t of tilesOf(size)) {
    const path = `/${formatTilePath(t)}`;
    const body = Buffer.from(await (await fetch(`${base}${path}`)).arrayBuffer());
    if (body.length !== t.width * 32) throw new Error(`${path}: ${body.length} bytes`);
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
    paths.push(path);
  }
  staticServer = await startStatic(root, work);
  const setupSeconds = ((performance.now() - t0) / 1000).toFixed(1);
  const full = paths.filter((p) => !p.includes('.p/')).length;
  console.log(`tiles bench: ${size} leaves (checkpoint), ${paths.length} tiles (${full} full, 8,192 B; ${paths.length - full} partial); setup ${setupSeconds} s`);
  console.log(`load: autocannon, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per round, cycling over every tile path; ${ROUNDS} rounds A (sporbar-log) B (${staticServer.name})`);

  // Warm-up, both sides.
  await autocannon({ url: base, connections: CONNECTIONS, duration: 1, requests: paths.map((path) => ({ method: 'GET' as const, path })) });
  await autocannon({ url: staticServer.url, connections: CONNECTIONS, duration: 1, requests: paths.map((path) => ({ method: 'GET' as const, path })) });

  const a: Round[] = [];
  const b: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await load(base, paths, [log.child.pid!]));
    b.push(await load(staticServer.url, paths, staticServer.pids));
    const line = (r: Round) => `${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms, ${r.cpuUs.toFixed(0)} µs CPU/request`;
    console.log(`round ${i + 1}: sporbar-log ${line(a.at(-1)!)} | static ${line(b.at(-1)!)}`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const summary = (rs: Round[]) => ({ rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuUs: median(rs.map((r) => r.cpuUs)), errors: rs.reduce((s, r) => s + r.errors + r.non2xx, 0) });
  const sa = summary(a);
  const sb = summary(b);
  console.log('');
  console.log('| server | requests/s (median of rounds) | p50 ms | p99 ms | server CPU µs/request | errors + non-2xx |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(`| sporbar-log (Node ${process.version}, fastify) | ${sa.rps.toFixed(0)} | ${sa.p50} | ${sa.p99} | ${sa.cpuUs.toFixed(0)} | ${sa.errors} |`);
  console.log(`| ${staticServer.name} | ${sb.rps.toFixed(0)} | ${sb.p50} | ${sb.p99} | ${sb.cpuUs.toFixed(0)} | ${sb.errors} |`);
  console.log(`ratio sporbar-log / static: ${(sa.rps / sb.rps).toFixed(2)} (requests/s), ${(sa.cpuUs / sb.cpuUs).toFixed(2)} (server CPU per request)`);
  console.log(`load average (1, 5, 15 min) at the end: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
} finally {
  await staticServer?.stop();
  if (log && log.child.exitCode === null) {
    log.child.kill('SIGKILL');
    await log.exited;
  }
  await store.close();
  await dropTestDatabase(pg.url, db.name);
  rmSync(work, { recursive: true, force: true });
}
