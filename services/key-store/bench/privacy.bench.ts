// Privacy cost per event, next to the plain Avro encode of the same event, in one run.
import { pgliteSqlClient } from '@sporbar/common/sql';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { createCodec, type DisclosureRecorded } from '@sporbar/schemas';
import {
  createPseudonymiser,
  createSubjectKeyStore,
  createSubjectOpener,
  createSubjectSealer,
  generateMasterKeySecret,
  generateSealKeyPair,
  keyScope,
  migrateSubjectKeys,
  parseMasterKey,
} from '../src/index.ts';

const N = Number(process.env['BENCH_EVENTS'] ?? 50_000);
const codec = createCodec();
const keys = await generateSealKeyPair();
const sealer = createSubjectSealer(keys.publicKey);
const opener = createSubjectOpener(keys.privateKey);
const pseudonymiser = createPseudonymiser({ id: 'k1', secret: Buffer.alloc(32, 3).toString('base64url') });
const db = await PGlite.create();
const subjectKeys = createSubjectKeyStore({ db, masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
await migrateSubjectKeys(pgliteSqlClient(db));
const cprs = Array.from({ length: 1000 }, (_, i) => `${String(1 + (i % 28)).padStart(2, '0')}0590-${String(i).padStart(4, '0')}`);
const event = (i: number): DisclosureRecorded => ({
  eventId: randomUUID(),
  occurredAt: 1_764_000_000_000_000 + i,
  sourceSystem: 'mitid-core',
  controllerCvr: '34051178',
  activity: 'mitid-core',
  subject: { scheme: 'PSEUDONYM', value: pseudonymiser.pseudonym(cprs[i % 1000]!) },
  recipient: { id: 'akamai-denmark', role: 'CONTROLLER' },
  purpose: 'mitid-traffic-security-analysis',
  legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
  dataCategories: ['ip-address'],
  transfer: null,
  personalDetails: null,
  correlationId: null,
});
const events = Array.from({ length: 1000 }, (_, i) => event(i));
const sealed = await Promise.all(cprs.map((c) => sealer.seal(c)));
const details = { ipAddress: '198.51.100.7' };
for (const e of events.slice(0, 1000)) await subjectKeys.encrypt(keyScope(e.subject.value, 'mitid-core'), e.eventId, details); // warm the key cache

async function time(name: string, fn: (i: number) => unknown): Promise<{ name: string; us: number }> {
  for (let i = 0; i < 2000; i++) await fn(i);
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn(i);
  return { name, us: Number(process.hrtime.bigint() - t) / 1e3 / N };
}

const rows = [
  await time('Avro encode (baseline)', (i) => codec.encode('DisclosureRecorded', events[i % 1000]!)),
  await time('SDK: seal the CPR number (HPKE session + AES-GCM)', (i) => sealer.seal(cprs[i % 1000]!)),
  await time('ingest: open the sealed CPR number', (i) => opener.open(sealed[i % 1000]!)),
  await time('ingest: HMAC-SHA256 pseudonym', (i) => pseudonymiser.pseudonym(cprs[i % 1000]!)),
  await time('ingest: encrypt details under the subject key', (i) => subjectKeys.encrypt(keyScope(events[i % 1000]!.subject.value, 'mitid-core'), events[i % 1000]!.eventId, details)),
];
const base = rows[0]!.us;
const privacy = rows.slice(1).reduce((n, r) => n + r.us, 0);
console.log(`\nPrivacy cost per event (${N.toLocaleString('en')} events per row, warm key cache)`);
console.table(rows.map((r) => ({ step: r.name, 'µs/event': r.us.toFixed(2), 'x Avro encode': (r.us / base).toFixed(2) })));
console.log(`privacy total ${privacy.toFixed(1)} µs/event = ${(privacy / base).toFixed(1)} × the Avro encode; at 50k events/s that is ${((privacy * 50_000) / 1e6 * 100).toFixed(0)}% of one core`);
await db.close();
