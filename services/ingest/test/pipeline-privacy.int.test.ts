import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { testKafkaBrokers, testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';
import { devToken } from '@sporbar/access-api';
import { developmentProducerKey, createKafkaTransport, createProducer, type Producer } from '@sporbar/producer';
import { register } from '@sporbar/schemas';
import { generateSealKeyPair } from '@sporbar/key-store';
import { ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, waitFor, pipelineEnv } from './support.ts';

/**
 * No CPR number in clear anywhere: 10,000 events through the real pipeline — SDK (Kafka transport)
 * → Kafka → ingest → PostgreSQL → projector → access API, each service its own process — then
 * every byte of the Kafka topics, every row of the database (bytea decoded) and every line the
 * services logged is searched for every CPR number used, in both spellings.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const TSX = root('node_modules/.bin/tsx');

describe.skipIf(!brokers || !pgProbe.url)('privacy across the real pipeline', () => {
  const cprs = Array.from({ length: 500 }, (_, i) => `${String(1 + (i % 28)).padStart(2, '0')}${String(1 + (i % 12)).padStart(2, '0')}${String(40 + (i % 50))}-${String(1000 + i).padStart(4, '0')}`);
  const env: Record<string, string> = {};
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  let kafka: Kafka;
  let db: { name: string; url: string };
  let topic: string;
  let producer: Producer;
  /** Each activity's own system, as the producer registry allows it (one transport for all). */
  let producers: Record<string, Producer>;
  let spoolDir: string;
  let apiPort: number;

  const start = (name: string, args: string[]) => {
    const child = spawn(TSX, args, { env: { ...process.env, ...env, LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (process.env['DEBUG_PIPELINE']) child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
    if (process.env['DEBUG_PIPELINE']) child.stdout?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString().slice(0, 300)}`));
    child.stdout!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    child.stderr!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    db = await createTestDatabase(pgProbe.url!);
    topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 6 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    const seal = await generateSealKeyPair();
    apiPort = 20000 + Math.floor(Math.random() * 20000);
    Object.assign(env, pipelineEnv({ topic, databaseUrl: db.url, seal }), {
      PORT: String(apiPort),
    });
    spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-spool-'));
    const transport = createKafkaTransport({ ...testKafkaClientOptions()!, topic, spoolDir });
    const systemOf = (producerId: string) => createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret: env['SPORBAR_ROUTING_SECRET']!, producerKey: developmentProducerKey(producerId) });
    producers = { 'mitid-core': systemOf('mitid-core'), 'nemkonto-register': systemOf('nemkonto'), 'mitid-support': systemOf('mitid-support') };
    producer = producers['nemkonto-register']!;
  });

  afterAll(async () => {
    await producer?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('10,000 events: 0 occurrences of any CPR number in Kafka, the store, the read models or the logs', async () => {
    const activities = register.activities.filter((a) => ['mitid-core', 'nemkonto-register', 'mitid-support'].includes(a.id));
    let n = 0;
    const sends: Array<Promise<unknown>> = [];
    while (n < 10_000) {
      const cpr = cprs[n % cprs.length]!;
      const activity = activities[n % activities.length]!;
      const f = activity.flows[n % activity.flows.length]!;
      sends.push(
        producers[activity.id]!.recordDisclosure({
          subject: { cpr },
          activity: activity.id,
          recipient: { id: f.recipientId, role: f.roles[0] },
          purpose: f.purposeIds[0]!,
          legalBases: [...f.legalBases],
          dataCategories: [...f.categoryIds],
          // Details that themselves contain the CPR number (free text is free): they must be encrypted too.
          personalDetails: n % 3 === 0 ? { freeText: `caller gave cpr ${cpr} on the phone` } : { ipAddress: `10.0.${n % 250}.${n % 200}` },
        }),
      );
      n++;
      if (sends.length >= 500) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await producer.flush();

    start('ingest', [root('services/ingest/src/main.ts'), 'run']);
    const count = async () => {
      const c = new pg.Client({ connectionString: db.url });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return Number((await c.query("SELECT count(*) FROM sporbar.events WHERE event_type = 'DisclosureRecorded'")).rows[0].count);
      } catch {
        return 0;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    await waitFor(async () => (await count()) >= 10_000, 240_000, '10,000 disclosures stored');
    start('projector', [root('projections/src/cli.ts'), 'run']);
    start('access-api', [root('services/access-api/src/main.ts')]);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor(async () => (await fetch(`${base}/health`).catch(() => null))?.ok === true, 60_000, 'API up');

    // Use the API the way people do, with the CPR numbers in tokens and a lookup body.
    const caseworker = devToken({ role: 'caseworker', sub: 'cw-1' });
    for (const cpr of cprs.slice(0, 20)) {
      const lookup = await fetch(`${base}/v1/subjects/lookup`, { method: 'POST', headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr }) });
      const { ref } = (await lookup.json()) as { ref: string };
      await waitFor(async () => {
        const r = await fetch(`${base}/v1/subjects/${ref}/disclosures?reason=CASE-7`, { headers: { authorization: `Bearer ${caseworker}` } });
        return r.ok && ((await r.json()) as { totalDisclosures: number }).totalDisclosures === 20;
      }, 120_000, 'projected report');
      const mine = await fetch(`${base}/v1/me/report`, { headers: { authorization: `Bearer ${devToken({ role: 'citizen', sub: 'c', cpr })}`, accept: 'text/html' } });
      expect(mine.status).toBe(200);
      expect(await mine.text()).toContain('caller gave cpr'); // the citizen sees their own details...
    }
    await waitFor(async () => logs.join('').includes('"route":"/v1/me/report"'), 30_000, 'request logs written');

    // ... and nothing at rest or in transit shows a CPR number in clear.
    const needles = cprs.flatMap((c) => [c, c.replace('-', '')]);
    const find = (haystack: string) => needles.filter((x) => haystack.includes(x));
    const kafkaBytes = [...(await readTopic(kafka, topic)), ...(await readTopic(kafka, `${topic}.dlq`))]
      .map((m) => [m.key?.toString('latin1') ?? '', m.value?.toString('latin1') ?? '', ...Object.values(m.headers ?? {}).map((h) => String(h))].join('|'))
      .join('\n');
    expect(kafkaBytes.length).toBeGreaterThan(1_000_000);
    expect(find(kafkaBytes)).toEqual([]);

    const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', db.url], { maxBuffer: 1 << 30 }).toString('latin1');
    // bytea columns appear as \x<hex>: decode them so a CPR number inside stored bytes is found too.
    const decoded = dump.replace(/\\\\x([0-9a-f]+)/g, (_m, hex: string) => Buffer.from(hex, 'hex').toString('latin1'));
    expect(dump).toMatch(/rm_subject_disclosures|subject_disclosures/);
    expect(decoded.length).toBeGreaterThan(1_000_000);
    expect(find(decoded)).toEqual([]);

    const logText = logs.join('');
    expect(logText).toMatch(/"route":"\/v1\/subjects\/lookup"/);
    expect(find(logText)).toEqual([]);
  });
});
