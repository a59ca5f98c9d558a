// Producer authentication per event: HMAC-SHA256 vs Ed25519, sign (producer) and verify (ingest),
// over record values of the size the SDK sends (a sealed MitID login disclosure, ~500 bytes), next to
// the budget: at most 10% of the pipeline's ~7,000 events/s on 2 cores. `npm run bench:producer-auth -w @sporbar/key-store`.
import { randomBytes } from 'node:crypto';
import { parseProducerRegistry } from '@sporbar/schemas';
import { createProducerSigner, createProducerVerifier, developmentCredential, developmentProducerKey } from '../src/index.ts';

const N = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const SIZE = Number(process.env['BENCH_VALUE_BYTES'] ?? 520);
const values = Array.from({ length: 1000 }, () => randomBytes(SIZE));
const THROUGHPUT = 7_000; // events/s end to end (pipeline bench, login mix, 2 cores)
const CORES = 2;

const registry = parseProducerRegistry({
  producers: (['hmac-sha256', 'ed25519'] as const).map((algorithm) => ({ id: `p-${algorithm}`, name: algorithm, keys: [developmentCredential(`p-${algorithm}`, algorithm)], eventTypes: ['DisclosureRecorded'], activities: '*' })),
});
const verify = createProducerVerifier(registry);

function time(f: (i: number) => void): number {
  for (let i = 0; i < Math.min(2000, N); i++) f(i); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(i);
  return Number(process.hrtime.bigint() - t) / 1000 / N; // µs per call
}

const rows: string[] = [];
for (const algorithm of ['hmac-sha256', 'ed25519'] as const) {
  const sign = createProducerSigner(developmentProducerKey(`p-${algorithm}`, algorithm));
  const headers = values.map((v) => sign(v));
  const signUs = time((i) => sign(values[i % values.length]!));
  const verifyUs = time((i) => verify(values[i % values.length]!, headers[i % values.length]!));
  const share = ((signUs + verifyUs) * THROUGHPUT) / 1e6 / CORES;
  rows.push(`| ${algorithm} | ${signUs.toFixed(1)} | ${verifyUs.toFixed(1)} | ${Math.round(1e6 / verifyUs).toLocaleString('en')} | ${(share * 100).toFixed(1)} % |`);
}
console.log(`producer authenticators, ${N.toLocaleString('en')} events of ${SIZE} bytes (node ${process.version})\n`);
console.log('| algorithm | sign µs/event | verify µs/event | verifications/s (one core) | CPU of 2 cores at 7,000 events/s (sign + verify) |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
