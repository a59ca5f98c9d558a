/**
 * Subject map at scale: prefill BENCH_SUBJECTS subjects (one leaf each, one batch), then time single
 * checkpoints of BENCH_BATCHES (comma-separated) leaves over uniformly random existing subjects.
 *   node --expose-gc --import tsx bench/subject-map-scale.bench.ts
 */
import { hash, randomBytes } from 'node:crypto';
import { encodeMapProof, saltFromSecret, SubjectMap, type MapEntry } from '../src/map/index.ts';

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 500_000);
const BATCHES = (process.env.BENCH_BATCHES ?? '10000,100000').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};
const pool = randomBytes(32 * SUBJECTS);
const indexes = Array.from({ length: SUBJECTS }, (_, i) => pool.subarray(32 * i, 32 * i + 32));
const lh = (i: number) => hash('sha256', `event ${i}`, 'buffer');
const h0 = heap();
const map = new SubjectMap({ saltOf: saltFromSecret(randomBytes(32)) });
let t = performance.now();
map.apply(indexes.map((index, i) => ({ index, logIndex: i, leafHash: lh(i) })));
map.root();
const build = performance.now() - t;
const h1 = heap();
console.log(`prefill ${SUBJECTS} subjects: ${(build / 1000).toFixed(1)} s (${((build * 1000) / SUBJECTS).toFixed(1)} µs/subject), heap ${((h1 - h0) / SUBJECTS).toFixed(0)} B/subject (index pool included: 32 B)`);
let next = SUBJECTS;
for (const n of BATCHES) {
  const batch: MapEntry[] = [];
  for (let i = 0; i < n; i++, next++) batch.push({ index: indexes[Math.floor(Math.random() * SUBJECTS)]!, logIndex: next, leafHash: lh(next) });
  t = performance.now();
  map.apply(batch, next);
  map.root();
  const ms = performance.now() - t;
  console.log(`checkpoint of ${n} leaves: ${ms.toFixed(0)} ms (${((ms * 1000) / n).toFixed(1)} µs/leaf)`);
}
let bytes = 0;
for (let k = 0; k < 1000; k++) bytes += encodeMapProof(map.prove(indexes[k * 97 % SUBJECTS]!)).length;
console.log(`proof ${Math.round(bytes / 1000)} B avg`);
