// npm run bench -w @sporbar/schemas: Avro single-object encode/decode next to JSON.stringify/parse of the same events.
import { randomUUID } from 'node:crypto';
import { createCodec, type DisclosureRecorded } from '../src/index.ts';

const N = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const codec = createCodec();
const events: DisclosureRecorded[] = Array.from({ length: 1000 }, (_, i) => ({
  eventId: randomUUID(),
  occurredAt: 1_764_000_000_000_000 + i,
  sourceSystem: 'mitid-core',
  controllerCvr: '34051178',
  activity: 'mitid-core',
  subject: { scheme: 'PSEUDONYM', value: `psn_k1_${'x'.repeat(43)}` },
  recipient: { id: 'mitid-broker', role: 'SUB_PROCESSOR' },
  purpose: 'mitid-issuance-administration-use',
  legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
  dataCategories: ['risk-data', 'authentication-response'],
  transfer: i % 10 === 0 ? { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } : null,
  personalDetails: null,
  correlationId: `login-${i}`,
}));

function measure(name: string, fn: (i: number) => unknown): { name: string; perSecond: number } {
  for (let i = 0; i < 20_000; i++) fn(i); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, perSecond: N / seconds };
}

const avroBytes = events.map((e) => codec.encode('DisclosureRecorded', e));
const jsonText = events.map((e) => JSON.stringify(e));
const results = [
  measure('Avro encode (validate + single-object)', (i) => codec.encode('DisclosureRecorded', events[i % 1000]!)),
  measure('JSON.stringify (baseline)', (i) => JSON.stringify(events[i % 1000]!)),
  measure('Avro decode (scan + resolve + validate)', (i) => codec.decode(avroBytes[i % 1000]!)),
  measure('JSON.parse (baseline)', (i) => JSON.parse(jsonText[i % 1000]!)),
];
const size = { avro: avroBytes.reduce((n, b) => n + b.length, 0) / 1000, json: jsonText.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1000 };
console.log(`\nCodec benchmark: ${N.toLocaleString('en')} DisclosureRecorded events per row`);
console.table(results.map((r) => ({ operation: r.name, 'events/s': Math.round(r.perSecond).toLocaleString('en') })));
console.table([
  { ratio: 'encode: Avro / JSON', value: (results[0]!.perSecond / results[1]!.perSecond).toFixed(2) },
  { ratio: 'decode: Avro / JSON', value: (results[2]!.perSecond / results[3]!.perSecond).toFixed(2) },
  { ratio: 'bytes per event: Avro / JSON', value: `${size.avro.toFixed(0)} / ${size.json.toFixed(0)}` },
]);
