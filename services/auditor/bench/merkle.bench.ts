/**
 * Streaming Merkle root vs plain SHA-256 over the same events.
 *
 *   BENCH_EVENTS (default 1,000,000)  events of BENCH_EVENT_BYTES (default 300) pseudo-random bytes
 *   BENCH_RUNS   (default 3)          timed runs per row; the table shows the best and the median
 *
 * Events are never all in memory: one 4,096-event chunk buffer is refilled from a xorshift128 stream
 * seeded by the chunk number, so every pass hashes exactly the same bytes and the generator allocates
 * nothing. Only hashing is timed, not the generation. RSS peak is tracked per row; the MerkleTree row,
 * which keeps its nodes, runs last. Rows:
 *   - SHA-256 per event: one crypto.hash per event, the floor for any per-event digest (the limit);
 *   - streaming Merkle root: CompactRange.appendLeaf per event (leaf hash + on average one node hash) + root();
 *   - MerkleTree (proof-serving, keeps 64 B/event): for the API's in-memory proofs;
 *   - one running SHA-256 over all the bytes: throughput context only (no per-event framing).
 */
import { createHash, hash } from 'node:crypto';
import { CompactRange, MerkleTree } from '../src/index.ts';

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const EVENT_BYTES = Number(process.env.BENCH_EVENT_BYTES ?? 300);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const CHUNK = 4096;

// One chunk buffer and one array of views, reused: the generator makes no garbage, so RSS shows the hashing.
const chunkBytes = Buffer.alloc(CHUNK * EVENT_BYTES);
const chunkWords = new Uint32Array(chunkBytes.buffer, chunkBytes.byteOffset, Math.floor(chunkBytes.length / 4));
const views = Array.from({ length: CHUNK }, (_, i) => chunkBytes.subarray(i * EVENT_BYTES, (i + 1) * EVENT_BYTES));

/** Fills the chunk with xorshift128 output seeded by the chunk number: the same bytes on every pass. */
function chunk(c: number): Buffer[] {
  let x = 0x9e3779b9 ^ Math.imul(c + 1, 0x85ebca6b);
  let y = 0x243f6a88;
  let z = 0xb7e15162 ^ c;
  let w = 0x6a09e667;
  for (let i = 0; i < chunkWords.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
    chunkWords[i] = w;
  }
  const count = Math.min(CHUNK, N - c * CHUNK);
  return count === CHUNK ? views : views.slice(0, count);
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
let peakRss = 0;
const sampleRss = (): number => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  return rss;
};

interface Pass {
  seconds: number;
  result: string;
}

/** Runs `perChunk` over every chunk, timing only it; `finish` is timed too (the final root). */
function pass(perChunk: (events: Buffer[]) => void, finish: () => string): Pass {
  let ns = 0n;
  const chunks = Math.ceil(N / CHUNK);
  for (let c = 0; c < chunks; c++) {
    const events = chunk(c);
    const t0 = process.hrtime.bigint();
    perChunk(events);
    ns += process.hrtime.bigint() - t0;
    if (c % 16 === 0) sampleRss();
  }
  const t0 = process.hrtime.bigint();
  const result = finish();
  ns += process.hrtime.bigint() - t0;
  sampleRss();
  return { seconds: Number(ns) / 1e9, result };
}

const rows: Record<string, () => Pass> = {
  'SHA-256 per event (limit)': () => {
    let last: Buffer = Buffer.alloc(0);
    return pass(
      (events) => {
        for (const e of events) last = hash('sha256', e, 'buffer');
      },
      () => last.toString('hex'),
    );
  },
  'streaming Merkle root': () => {
    const range = new CompactRange();
    return pass(
      (events) => {
        for (const e of events) range.appendLeaf(e);
      },
      () => range.root().toString('hex'),
    );
  },
  'one SHA-256 over all bytes': () => {
    const h = createHash('sha256');
    return pass(
      (events) => {
        for (const e of events) h.update(e);
      },
      () => h.digest('hex'),
    );
  },
  'MerkleTree (proof-serving)': () => {
    const tree = new MerkleTree();
    return pass(
      (events) => {
        for (const e of events) tree.appendLeaf(e);
      },
      () => tree.root().toString('hex'),
    );
  },
};

const rssStart = sampleRss();
console.log(`merkle bench: ${N.toLocaleString('en')} events × ${EVENT_BYTES} B, ${RUNS} run(s) per row, node ${process.version}`);

const results: { name: string; best: number; median: number; result: string; rssPeak: number }[] = [];
for (const [name, run] of Object.entries(rows)) {
  peakRss = sampleRss();
  const passes = Array.from({ length: RUNS }, () => run());
  const rates = passes.map((p) => N / p.seconds).sort((a, b) => a - b);
  results.push({ name, best: rates.at(-1)!, median: rates[Math.floor(rates.length / 2)]!, result: passes[0]!.result, rssPeak: Math.max(peakRss, sampleRss()) });
  if (new Set(passes.map((p) => p.result)).size !== 1) throw new Error(`${name}: runs disagree`);
}

const byName = (n: string) => results.find((r) => r.name === n)!;
const limit = byName('SHA-256 per event (limit)');
const streaming = byName('streaming Merkle root');
if (streaming.result !== byName('MerkleTree (proof-serving)').result) throw new Error('streaming root differs from MerkleTree root');

const fmt = (x: number) => Math.round(x).toLocaleString('en');
const header = ['', 'events/s (best)', 'events/s (median)', 'MB/s (best)', '× limit (best)', 'RSS peak'];
const table = results.map((r) => [r.name, fmt(r.best), fmt(r.median), ((r.best * EVENT_BYTES) / 2 ** 20).toFixed(0), (r.best / limit.best).toFixed(2), mb(r.rssPeak)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
for (const row of table) console.log(line(row));
console.log(`RSS start ${mb(rssStart)}, peak ${mb(Math.max(...results.map((r) => r.rssPeak)))} (MerkleTree keeps 64 B per event; the streaming root ≤ 53 hashes)`);
console.log(`root of ${N.toLocaleString('en')} events: ${streaming.result}`);

const ratio = streaming.best / limit.best;
const targets = [
  [`streaming root ≥ 300,000 events/s`, streaming.best >= 300_000],
  [`streaming root ≥ 0.30 × per-event SHA-256`, ratio >= 0.3],
] as const;
for (const [what, ok] of targets) console.log(`${ok ? 'PASS' : 'MISS'}  ${what}`);
