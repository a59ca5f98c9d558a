/**
 * npm run bench:map-scale -w @sporbar/auditor (or bench:map-scale:full) — the subject map's own cost at scale (issue 22),
 * driven by the existing generator of synthetic traffic (projections/bench/generate.ts, the one that
 * makes the 10M-event / 1M-subject `sporbar_bench_10m` dataset): its events, Avro-encoded exactly as
 * stored, its subject distribution (a tenth of the subjects make a third of the transactions) and its
 * mix of types (≈ 97% DisclosureRecorded). Instead of a database the generator writes to a store that
 * hands each batch to this bench, which does what the log service would do with the map on:
 *
 *   log   (the baseline, "map off"): MerkleTree.appendLeaf(stored bytes) per event — the RFC 6962
 *         log's own cost per leaf (leaf hash + amortised one node hash); its leaf hash is reused below;
 *   read  mapLeafReader: is it a DisclosureRecorded, and its pseudonym (from the stored bytes);
 *   index subjectMapKeys(key).indexOf(pseudonym) (HMAC-SHA-256);
 *   commit SubjectMap.apply(leaves since the last commitment) + root(), every BENCH_MAP_CADENCE leaves.
 *
 * Then, with the map holding every subject of the first BENCH_MAP_EVENTS events, the generator goes
 * on for the steady-state commitments (BENCH_MAP_STEADY: for each cadence c, enough events for a few
 * commitments of c leaves each, timed one by one), proofs and reports for a sample of subjects with
 * their real lists, heap (after gc) of the arena layout and of the object layout it replaced, and the
 * storage of a snapshot and of commitments. Generation (encoding) is timed apart and counted nowhere.
 *
 * Env: BENCH_MAP_SUBJECTS (100,000) and BENCH_MAP_EVENTS (1,000,000): the generator's sizes;
 *      BENCH_MAP_CADENCE (100,000) leaves per commitment while building;
 *      BENCH_MAP_STEADY ("10000x10,100000x3") cadence x commitments, after the build;
 *      BENCH_MAP_PROOFS (2,000) subjects sampled (by index) for proofs and reports;
 *      BENCH_MAP_OLD_LAYOUT (1) also build the object layout for its heap (0 to skip);
 *      BENCH_MAP_CROSSCHECK (1) recompute the final root from scratch (mapRootOf) and compare.
 * Run with --expose-gc (the npm scripts do) so heap figures are after a full GC. The defaults take
 * about a minute (part of `npm run bench`); the size, 1M subjects / 10M events plus steady
 * commitments of 10k, 100k and 1M leaves, is `npm run bench:map-scale:full` (≈ 10 minutes, 1.5 GB).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { AppendRequest, AppendResult, EventStore } from '@sporbar/event-store';
import { createCodec, type SubjectMapCommitted } from '@sporbar/schemas';
import { generateEvents } from '../../../projections/bench/generate.ts';
import { MerkleTree } from '../src/merkle/merkle-tree.ts';
import {
  checkSubjectList, decodeMapProof, encodeMapProof, mapLeafReader, mapRootOf, subjectMapKeys, SubjectMap, valueHash,
  type ListedLeaf, type MapEntry,
} from '../src/map/index.ts';
import { ObjectSubjectMap } from '../test/support/object-subject-map.ts';

const env = process.env;
const SUBJECTS = Number(env['BENCH_MAP_SUBJECTS'] ?? 100_000);
const EVENTS = Number(env['BENCH_MAP_EVENTS'] ?? 1_000_000);
const CADENCE = Number(env['BENCH_MAP_CADENCE'] ?? 100_000);
const STEADY = (env['BENCH_MAP_STEADY'] ?? '10000x10,100000x3')
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const [c, n] = s.split('x').map(Number);
    if (!c || !n) throw new Error(`BENCH_MAP_STEADY: '${s}' is not <cadence>x<commitments>`);
    return { cadence: c, count: n };
  });
const PROOFS = Number(env['BENCH_MAP_PROOFS'] ?? 2000);
const OLD_LAYOUT = env['BENCH_MAP_OLD_LAYOUT'] !== '0';
const CROSSCHECK = env['BENCH_MAP_CROSSCHECK'] !== '0';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.error('[map-scale] run with --expose-gc: heap figures are not after a GC');
const heap = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const log = (...a: unknown[]) => console.error('[map-scale]', ...a);
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const codec = createCodec();
const readLeaf = mapLeafReader(codec);
const keys = subjectMapKeys(Buffer.alloc(32, 0x5a)); // a fixed bench key: the same subjects every run
const tree = new MerkleTree();
let map: SubjectMap | null = new SubjectMap({ saltOf: keys.saltOf });

// Subjects sampled for proofs by their index (uniform over subjects, hot or not): their real lists.
const sampleBelow = Math.max(1, Math.ceil((65536 * PROOFS) / Math.max(1, SUBJECTS * 0.7)));
const lists = new Map<string, ListedLeaf[]>();

let size = 0; // log leaves so far
let disclosures = 0;
let pending: MapEntry[] = [];
let lastCommit = 0;
let commitments = 0;
const t = { log: 0, read: 0, index: 0, commit: 0, generate: 0 };
// CPU time (process.cpuUsage, user + system, µs → ms) of the same stages: on a shared machine wall
// time includes waiting for a core; CPU time does not (it does include V8's GC helper threads).
const cpu = { log: 0, read: 0, index: 0, commit: 0 };
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const buildCommitMs: number[] = [];
let phase: 'build' | 'steady' = 'build';
const steadyPlan = STEADY.flatMap(({ cadence, count }) => Array.from({ length: count }, () => cadence));
const steadyTimes: Array<{ cadence: number; ms: number; cpuMs: number; leaves: number; touched: number }> = [];
interface Built {
  seconds: number;
  subjects: number;
  disclosures: number;
  mapMs: number;
  perEvent: Record<string, number>;
  cpuPerEvent: Record<string, number>;
}
const built: { result?: Built } = {};
let lastBatchEnd = performance.now();
const started = performance.now();

function commit(): { ms: number; cpuMs: number; leaves: number; touched: number } {
  const touched = new Set<string>();
  if (phase === 'steady') for (const e of pending) touched.add(Buffer.from(e.index.buffer, e.index.byteOffset, 8).toString('latin1'));
  const c0 = cpuMs();
  const t0 = performance.now();
  map!.apply(pending, size);
  map!.root();
  const ms = performance.now() - t0;
  const c = cpuMs() - c0;
  const leaves = pending.length;
  pending = [];
  lastCommit = size;
  commitments++;
  return { ms, cpuMs: c, leaves, touched: touched.size };
}

type Stored = AppendRequest['events'][number];

/** One batch of the generator (≈ 5,000 events; a transaction may run a few over). */
function onBatch(requests: readonly AppendRequest[]): void {
  t.generate += performance.now() - lastBatchEnd;
  const events = requests.flatMap((r) => r.events);
  if (phase === 'build' && size + events.length > EVENTS) {
    // Cut at exactly BENCH_MAP_EVENTS: the build ends there, the rest is steady state.
    handle(events.slice(0, EVENTS - size));
    handle(events.slice(EVENTS - size));
  } else handle(events);
  lastBatchEnd = performance.now();
}

function handle(events: readonly Stored[]): void {
  if (events.length === 0) return;
  const first = size;
  // 1. The log (map off): leaf hash + Merkle tree append.
  const build = phase === 'build';
  let c0 = cpuMs();
  let t0 = performance.now();
  const leafHashes = events.map((e) => tree.appendLeaf(e.data));
  let t1 = performance.now();
  let c1 = cpuMs();
  if (build) {
    t.log += t1 - t0;
    cpu.log += c1 - c0;
  }
  // 2. What the map needs from the stored bytes.
  const pseudonyms = events.map((e) => {
    const l = readLeaf(e.data);
    return l.kind === 'disclosure' ? l.pseudonym : null;
  });
  t0 = performance.now();
  c0 = cpuMs();
  if (build) {
    t.read += t0 - t1;
    cpu.read += c0 - c1;
  }
  // 3. The index, and the map entry.
  const fresh: Array<{ index: Buffer; logIndex: number; leafHash: Buffer }> = [];
  for (let k = 0; k < events.length; k++) {
    const p = pseudonyms[k];
    if (p == null) continue;
    fresh.push({ index: keys.indexOf(p), logIndex: first + k, leafHash: leafHashes[k]! });
  }
  t1 = performance.now();
  c1 = cpuMs();
  if (build) {
    t.index += t1 - t0;
    cpu.index += c1 - c0;
  }
  for (const e of fresh) {
    pending.push(e);
    if (e.index.readUInt16BE(0) < sampleBelow) {
      const hex = e.index.toString('hex');
      const l = lists.get(hex) ?? [];
      l.push({ logIndex: e.logIndex, leafHash: e.leafHash });
      lists.set(hex, l);
    }
  }
  if (phase === 'build') disclosures += fresh.length;
  const before = size;
  size += events.length;
  // 4. Commitments.
  if (phase === 'build') {
    if (size - lastCommit >= CADENCE || size === EVENTS) {
      const c = commit();
      t.commit += c.ms;
      cpu.commit += c.cpuMs;
      buildCommitMs.push(c.ms);
    }
    if (size === EVENTS) {
      const seconds = (performance.now() - started) / 1000;
      const perEvent = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, (v * 1000) / EVENTS]));
      const cpuPerEvent = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, (v * 1000) / EVENTS]));
      built.result = { seconds, subjects: map!.subjectCount, disclosures, mapMs: t.read + t.index + t.commit, perEvent, cpuPerEvent };
      log(`built: ${fmt(EVENTS)} events, ${fmt(disclosures)} disclosures, ${fmt(map!.subjectCount)} subjects in the map, ${seconds.toFixed(0)} s`);
      phase = 'steady';
    }
  } else if (steadyTimes.length < steadyPlan.length) {
    const cadence = steadyPlan[steadyTimes.length]!;
    if (size - lastCommit >= cadence) steadyTimes.push({ cadence, ...commit() });
  }
  if (Math.floor(size / 1_000_000) > Math.floor(before / 1_000_000)) log(`${fmt(size)} events, map ${fmt(map!.subjectCount)} subjects, ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

const store = {
  appendMany: async (requests: readonly AppendRequest[]): Promise<AppendResult[]> => {
    onBatch(requests);
    return requests.map(() => ({ lastPosition: BigInt(size) }) as AppendResult);
  },
  close: async () => {},
} as unknown as EventStore;

const steadyEvents = steadyPlan.reduce((a, b) => a + b, 0);
log(`generating ${fmt(EVENTS)} + ${fmt(steadyEvents)} events over ${fmt(SUBJECTS)} subjects (projections/bench/generate.ts, seed 2026)`);
// Slack of one batch per steady commitment: a batch may run a few events past a cadence; the events
// left after the last steady commitment go into one final, untimed commitment.
await generateEvents({ store, events: EVENTS + steadyEvents + 5000 * (steadyPlan.length + 1), subjects: SUBJECTS, batchSize: 5000 });
if (steadyTimes.length !== steadyPlan.length) throw new Error(`only ${steadyTimes.length} of ${steadyPlan.length} steady commitments ran`);
if (pending.length) commit();
/** Proofs, reports, the snapshot and the cross-check on the built map (a function: `m` is unreachable once it returns). */
function examine(m: SubjectMap) {
  const root = m.root();

  // Proofs and reports for the sampled subjects, with their real lists (up to the last commitment).
  const proveUs: number[] = [];
  const verifyUs: number[] = [];
  const sizes: number[] = [];
  const listLengths: number[] = [];
  // Warm up (JIT) on a few, then time every sampled subject once, after a GC.
  for (const [hex, list] of [...lists].slice(0, 200)) checkSubjectList(root, Buffer.from(hex, 'hex'), decodeMapProof(encodeMapProof(m.prove(Buffer.from(hex, 'hex')))), list);
  gc?.();
  // Each subject's proof and report REPS times, keeping the fastest: on a shared machine a single
  // timing is as much the scheduler's as the code's. CPU time over all of them gives the average.
  const REPS = 5;
  const c0 = cpuMs();
  for (const [hex, list] of lists) {
    const index = Buffer.from(hex, 'hex');
    let best = Infinity;
    let bestCheck = Infinity;
    let bytes: Buffer = Buffer.alloc(0);
    for (let rep = 0; rep < REPS; rep++) {
      let t0 = performance.now();
      bytes = encodeMapProof(m.prove(index));
      let t1 = performance.now();
      best = Math.min(best, (t1 - t0) * 1000);
      t0 = performance.now();
      const r = checkSubjectList(root, index, decodeMapProof(bytes), list, { treeSize: m.size });
      t1 = performance.now();
      if (!r.ok || r.count !== list.length) throw new Error(`report of ${hex} failed: ${JSON.stringify(r)}`);
      bestCheck = Math.min(bestCheck, (t1 - t0) * 1000);
    }
    proveUs.push(best);
    verifyUs.push(bestCheck);
    sizes.push(bytes.length);
    listLengths.push(list.length);
  }
  const reportCpuUs = ((cpuMs() - c0) * 1000) / (REPS * lists.size);
  // A report with one disclosure left out must fail (the bench checks what it times).
  const [someHex, someList] = [...lists].find(([, l]) => l.length > 1)!;
  const omitted = checkSubjectList(root, Buffer.from(someHex, 'hex'), m.prove(Buffer.from(someHex, 'hex')), someList.slice(1));
  if (omitted.ok || omitted.reason !== 'missing') throw new Error('a report with a disclosure left out passed');

  // Storage: a snapshot of values (index 32 ‖ count u64 ‖ head 32), and one commitment leaf.
  const snapshot = Buffer.alloc(72 * m.subjectCount);
  const finalEntries: Array<{ index: Buffer; valueHash: Buffer }> = [];
  let off = 0;
  for (const { index, value } of m.entries()) {
    index.copy(snapshot, off);
    snapshot.writeBigUInt64BE(BigInt(value.count), off + 32);
    value.head.copy(snapshot, off + 40);
    off += 72;
    if (CROSSCHECK) finalEntries.push({ index, valueHash: valueHash(value.count, value.head) });
  }
  const commitmentEvent: SubjectMapCommitted = { eventId: '00000000-0000-4000-8000-000000000000', occurredAt: Date.now() * 1000, treeSize: m.size, rootHash: root };
  const commitmentBytes = codec.encode('SubjectMapCommitted', commitmentEvent).length;
  let crossMs = 0;
  if (CROSSCHECK) {
    const t0 = performance.now();
    if (!mapRootOf(finalEntries).equals(root)) throw new Error('the incremental root differs from the from-scratch root');
    crossMs = performance.now() - t0;
    finalEntries.length = 0;
  }
  return { usage: m.memoryUsage(), subjectsInMap: m.subjectCount, proveUs, verifyUs, reportCpuUs, sizes, listLengths, snapshot, commitmentBytes, crossMs };
}
const { usage, subjectsInMap, proveUs, verifyUs, reportCpuUs, sizes, listLengths, snapshot, commitmentBytes, crossMs } = examine(map!);

// Heap: a fresh arena map and the object layout, each prefilled with the built map's subjects (one
// leaf each: memory does not depend on the count) and measured as the heap's growth after a GC.
// (Dropping the built map and measuring what comes back does not work: gc() does not return the
// arena's ArrayBuffer backing stores synchronously.)
map = null;
const indexes: Buffer[] = [];
for (let k = 0; k < snapshot.length; k += 72) indexes.push(snapshot.subarray(k, k + 32));
const prefill = indexes.map((index, i) => ({ index, logIndex: i, leafHash: index }));
const measure = (make: () => { apply: (b: MapEntry[], upTo?: number) => void; root: () => Buffer }) => {
  const h0 = heap();
  const t0 = performance.now();
  let x: ReturnType<typeof make> | null = make();
  x.apply(prefill);
  x.root();
  const ms = performance.now() - t0;
  const bytes = heap() - h0;
  x = null;
  return { ms, bytes };
};
const arenaPrefill = measure(() => new SubjectMap({ saltOf: keys.saltOf }));
const objectPrefill = OLD_LAYOUT ? measure(() => new ObjectSubjectMap({ saltOf: keys.saltOf })) : null;

// Report.
if (!built.result) throw new Error('the build did not finish');
const b = built.result;
const pe = b.perEvent;
const pc = b.cpuPerEvent;
const mapWall = pe['read']! + pe['index']! + pe['commit']!;
const mapCpu = pc['read']! + pc['index']! + pc['commit']!;
const us = (x: number) => `${fmt(x, 2)} µs`;
const out: string[] = [];
const row = (k: string, wall: string, cpuTime = '') => out.push(`| ${k} | ${wall} | ${cpuTime} |`);
out.push(`### Subject map at ${fmt(SUBJECTS)} subjects / ${fmt(EVENTS)} events (${new Date().toISOString().slice(0, 10)})`);
out.push('');
out.push(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GB, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}; the bench is single-threaded.`);
out.push(`Generator: projections/bench/generate.ts (seed 2026), ${fmt(b.disclosures)} DisclosureRecorded of ${fmt(EVENTS)} events, ${fmt(b.subjects)} distinct subjects with a disclosure; encoding ${us(pe['generate']!)}/event, not counted.`);
out.push('');
out.push('| measurement | wall time | CPU time |');
out.push('| --- | --- | --- |');
row('**baseline**: RFC 6962 log, MerkleTree.appendLeaf (leaf hash + nodes)', `${us(pe['log']!)}/event`, `${us(pc['log']!)}/event`);
row('map: read pseudonym from stored bytes (mapLeafReader)', `${us(pe['read']!)}/event`, `${us(pc['read']!)}/event`);
row('map: index = HMAC (subjectMapKeys.indexOf)', `${us(pe['index']!)}/event`, `${us(pc['index']!)}/event`);
row(`map: apply + root, commitment every ${fmt(CADENCE)} leaves (${buildCommitMs.length} commitments, the last ${fmt(buildCommitMs.at(-1)!)} ms)`, `${us(pe['commit']!)}/event`, `${us(pc['commit']!)}/event`);
row('**map total** (read + index + commit)', `${us(mapWall)}/event = **${(mapWall / pe['log']!).toFixed(2)} × baseline**`, `${us(mapCpu)}/event = **${(mapCpu / pc['log']!).toFixed(2)} × baseline**`);
row('map without reading the pseudonym (index + commit)', `${us(pe['index']! + pe['commit']!)}/event = ${((pe['index']! + pe['commit']!) / pe['log']!).toFixed(2)} × baseline`, `${us(pc['index']! + pc['commit']!)}/event = ${((pc['index']! + pc['commit']!) / pc['log']!).toFixed(2)} × baseline`);
for (const { cadence } of STEADY) {
  const xs = steadyTimes.filter((s) => s.cadence === cadence);
  const ms = xs.map((x) => x.ms);
  const cms = xs.map((x) => x.cpuMs);
  row(
    `steady-state commitment of ${fmt(cadence)} leaves (${xs.length}×; ~${fmt(avg(xs.map((x) => x.leaves)))} disclosures over ~${fmt(avg(xs.map((x) => x.touched)))} subjects)`,
    `${fmt(avg(ms))} ms avg, ${fmt(Math.max(...ms))} max (${us((avg(ms) * 1000) / cadence)}/leaf)`,
    `${fmt(avg(cms))} ms avg (${us((avg(cms) * 1000) / cadence)}/leaf)`,
  );
}
row(`proof size (${fmt(sizes.length)} sampled subjects)`, `${fmt(avg(sizes))} B avg, ${fmt(pct(sizes, 99))} B p99, ${fmt(Math.max(...sizes))} B max`);
row('prove + encode (fastest of 5 per subject)', `${us(avg(proveUs))} avg, ${us(pct(proveUs, 99))} p99`);
row(
  `report: decode + verifyMapProof + checkSubjectList over the real list (${fmt(avg(listLengths), 1)} disclosures avg, ${fmt(pct(listLengths, 99))} p99, ${fmt(Math.max(...listLengths))} max; fastest of 5)`,
  `${us(avg(verifyUs))} avg, ${us(pct(verifyUs, 99))} p99`,
  `${us(reportCpuUs)} avg (prove + report, all repetitions)`,
);
row(`arena of the built map (${fmt(subjectsInMap)} subjects, ${(usage.innerNodes / usage.leaves).toFixed(2)} inner nodes per leaf)`, `${fmt(usage.used / subjectsInMap)} B/subject used, ${fmt(usage.allocated / subjectsInMap)} B/subject allocated`);
row(`heap, map prefilled with the same subjects: arena layout`, `${fmt(arenaPrefill.bytes / subjectsInMap)} B/subject (${fmt(arenaPrefill.bytes / 2 ** 20)} MB); prefill ${us((arenaPrefill.ms * 1000) / subjectsInMap)}/subject`);
if (objectPrefill) row('heap, same, object layout (before this change)', `${fmt(objectPrefill.bytes / subjectsInMap)} B/subject (${fmt(objectPrefill.bytes / 2 ** 20)} MB); prefill ${us((objectPrefill.ms * 1000) / subjectsInMap)}/subject`);
row('storage: snapshot of values (index ‖ count ‖ head)', `${fmt(snapshot.length / subjectsInMap)} B/subject (${fmt(snapshot.length / 2 ** 20)} MB)`);
row('storage per event', `+0 B in the event (the index is recomputed from the pseudonym); one SubjectMapCommitted leaf of ${commitmentBytes} B (Avro) per commitment = ${fmt(commitmentBytes / CADENCE, 4)} B/event at ${fmt(CADENCE)}-leaf cadence`);
if (CROSSCHECK) row('final root = mapRootOf(all values) from scratch', `yes (${fmt(crossMs / 1000, 1)} s)`);
out.push('');
out.push(`Whole run ${fmt((performance.now() - started) / 1000)} s; ${commitments} commitments.`);
console.log(out.join('\n'));
