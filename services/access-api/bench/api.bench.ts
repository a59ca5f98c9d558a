/**
 * npm run bench -w @sporbar/access-api — the read side at scale, in PostgreSQL:
 *   1. generate BENCH_EVENTS disclosures over BENCH_SUBJECTS subjects into the event store (timed),
 *   2. rebuild every projection from position 0 (the catch-up rate),
 *   3. autocannon against GET /v1/me/disclosures (citizen tokens, views recorded through Kafka),
 *      side by side with the same query run directly through pg (the limit).
 * Defaults: 1,000,000 events over 100,000 subjects (10M over 1M: BENCH_EVENTS=10000000 BENCH_SUBJECTS=1000000).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { startKafkaBroker } from '@sporbar/kafka-infra';
import { createPostgresEventStore } from '@sporbar/event-store';
import { allProjections, disclosuresPage, fromPgPool, rebuildReadModels } from '@sporbar/projections';
import { createKafkaTransport, createProducer } from '@sporbar/producer';
import { createCodec, createPseudonymiser, generateSealKeyPair, register, type DisclosureRecorded } from '@sporbar/schemas';
import { buildApp, devPublicKey, devToken } from '../src/index.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const SUBJECTS = Number(process.env['BENCH_SUBJECTS'] ?? 100_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const CONNECTIONS = 10;
const adminUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (...a: unknown[]) => console.error('[api-bench]', ...a);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const dbName = `sporbar_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const u = new URL(adminUrl);
u.pathname = `/${dbName}`;
const dbUrl = u.toString();
const pool = new pg.Pool({ connectionString: dbUrl, max: 12 });
const db = fromPgPool(pool);
const broker = process.env['KAFKA_BROKERS'] ? null : await startKafkaBroker({ port: 0, name: `api-bench-${process.pid}`, fresh: true });
const brokers = process.env['KAFKA_BROKERS']?.split(',') ?? broker!.brokers;
const spool = mkdtempSync(join(tmpdir(), 'sporbar-api-bench-'));

try {
  const store = await createPostgresEventStore({ connectionString: dbUrl, poolSize: 4 });
  const codec = createCodec();
  const pseudonymiser = createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') });
  const cpr = (s: number) => `${String(1 + (s % 28)).padStart(2, '0')}${String(1 + (Math.floor(s / 28) % 12)).padStart(2, '0')}${String(Math.floor(s / 336) % 100).padStart(2, '0')}-${String(Math.floor(s / 33600)).padStart(4, '0')}`;
  const pseudonyms = new Map<number, string>();
  const psn = (s: number) => pseudonyms.get(s) ?? (pseudonyms.set(s, pseudonymiser.pseudonym(cpr(s))), pseudonyms.get(s)!);
  const activities = register.activities.filter((a) => a.flows.length > 0);

  // 1. Generate.
  const t0 = Date.now();
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < EVENTS; i += 5000) {
    const byStream = new Map<string, Array<{ eventId: string; type: string; data: Buffer; metadata: Record<string, string> }>>();
    for (let j = i; j < Math.min(EVENTS, i + 5000); j++) {
      const s = (j * 7919) % SUBJECTS;
      const a = activities[j % activities.length]!;
      const f = a.flows[j % a.flows.length]!;
      const e: DisclosureRecorded = {
        eventId: randomUUID(),
        occurredAt: (start + Math.floor((j / EVENTS) * 300 * 86_400_000)) * 1000,
        sourceSystem: a.id,
        controllerCvr: '34051178',
        activity: a.id,
        subject: { scheme: 'PSEUDONYM', value: psn(s) },
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

  // 2. Rebuild every projection from 0.
  const rebuilt = await rebuildReadModels({ store, db, codec, projections: allProjections(register), batchSize: 2000 });
  await rebuilt.runner.stop();
  log(`rebuilt read models: ${Math.round(Number(rebuilt.events) / rebuilt.seconds)} events/s`);
  await pool.query('ANALYZE');

  // 3. The API under load, and the same query direct.
  const seal = await generateSealKeyPair();
  const views = createProducer({ transport: createKafkaTransport({ brokers, spoolDir: spool, lingerMs: 1, topic: 'sporbar.disclosures' }), sealPublicKey: seal.publicKey, routingSecret: randomBytes(32).toString('base64url'), sourceSystem: 'sporbar-access-api' });
  const { Kafka, logLevel } = await import('kafkajs');
  const kafkaAdmin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: 'sporbar.disclosures', numPartitions: 6 }] });
  await kafkaAdmin.disconnect();
  const prefix = rebuilt.prefix;
  const app = await buildApp({ readModels: { db, prefix: () => prefix }, register, pseudonymiser, views, jwtPublicKey: devPublicKey(), production: false, rateLimitPerMinute: 10_000_000 });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const sample = Array.from({ length: 500 }, (_, k) => (k * 104_729) % SUBJECTS);
  const requests = sample.map((s) => ({ method: 'GET' as const, path: '/v1/me/disclosures?limit=50', headers: { authorization: `Bearer ${devToken({ role: 'citizen', sub: `c${s}`, cpr: cpr(s) })}` } }));
  const result = await autocannon({ url: address, connections: CONNECTIONS, duration: SECONDS, requests });
  await app.close();
  await views.close();

  const latencies: number[] = [];
  let done = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      for (let k = c; Date.now() < until; k += CONNECTIONS) {
        const t = process.hrtime.bigint();
        await disclosuresPage(db, psn(sample[k % sample.length]!), { limit: 50 }, prefix);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        done++;
      }
    }),
  );
  const directRps = done / SECONDS;
  console.log(`\nRead side: ${EVENTS.toLocaleString('en')} events over ${SUBJECTS.toLocaleString('en')} subjects in PostgreSQL (2 cores, everything on one machine)`);
  console.table([
    { step: 'generate into the event store (appendMany, 5,000 a batch)', value: `${generateSeconds.toFixed(0)} s (${Math.round(EVENTS / generateSeconds).toLocaleString('en')} events/s)` },
    { step: 'rebuild all six read models from position 0 (catch-up)', value: `${rebuilt.seconds.toFixed(0)} s (${Math.round(Number(rebuilt.events) / rebuilt.seconds).toLocaleString('en')} events/s)` },
  ]);
  console.table([
    { system: 'GET /v1/me/disclosures (JWT, view recorded to Kafka, JSON schema)', 'req/s': Math.round(result.requests.average), 'p50 ms': result.latency.p50, 'p99 ms': result.latency.p99, errors: result.errors + result.non2xx },
    { system: 'same query through pg directly (the limit)', 'req/s': Math.round(directRps), 'p50 ms': pct(latencies, 50).toFixed(2), 'p99 ms': pct(latencies, 99).toFixed(2), errors: 0 },
  ]);
  console.log(`API / direct = ${(result.requests.average / directRps).toFixed(2)}`);
  await store.close();
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await broker?.stop();
  if (broker) rmSync(broker.runDir, { recursive: true, force: true });
  rmSync(spool, { recursive: true, force: true });
}
