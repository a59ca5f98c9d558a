import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { testKafkaBrokers, testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';
import { devToken } from '@sporbar/access-api';
import { createKafkaTransport, createProducer, developmentProducerKey, type Producer } from '@sporbar/producer';
import { generateSealKeyPair } from '@sporbar/key-store';
import { ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, waitFor, pipelineEnv } from './support.ts';

/**
 * Erasure takes effect in every API instance at once. Two access API processes (each with its own key
 * cache, 60 s time to live) serve a citizen's decrypted details; the real ingest, its own process,
 * handles an ErasureRequested and shreds the key; the very next request to each API, once the shred is
 * committed in the key table, shows the details as erased. No sleep: the wait is for the committed row.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const TSX = root('node_modules/.bin/tsx');

describe.skipIf(!brokers || !pgProbe.url)('erasure across two access API processes', () => {
  const CPR = '230581-4417';
  const IP = '192.0.2.231';
  const env: Record<string, string> = {};
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  let db: { name: string; url: string };
  let pool: pg.Pool;
  let producer: Producer;
  /** The privacy desk: the producer the registry allows to request erasure. */
  let eraser: Producer;
  let spoolDir: string;
  const ports = [0, 0].map(() => 20000 + Math.floor(Math.random() * 20000));

  const start = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const child = spawn(TSX, args, { env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    child.stderr!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    const kafka = kafkaClient();
    db = await createTestDatabase(pgProbe.url!);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 3 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    const seal = await generateSealKeyPair();
    Object.assign(env, pipelineEnv({ topic, databaseUrl: db.url, seal }));
    spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-spool-'));
    const transport = createKafkaTransport({ ...testKafkaClientOptions()!, topic, spoolDir });
    const routingSecret = env['SPORBAR_ROUTING_SECRET']!;
    producer = createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret, producerKey: developmentProducerKey('mitid-core') });
    eraser = createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret, producerKey: developmentProducerKey('sporbar-privacy-desk', 'ed25519') });
  });

  afterAll(async () => {
    if (process.env['DEBUG_PIPELINE']) console.log(logs.join(''));
    await producer?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await pool?.end();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  });

  it('the next request to each API after the shred committed shows the details as erased', async () => {
    for (let i = 0; i < 3; i++) {
      await producer.recordDisclosure({
        subject: { cpr: CPR },
        activity: 'mitid-core',
        recipient: { id: 'nets-danid', role: 'PROCESSOR' },
        purpose: 'mitid-issuance',
        legalBases: ['GDPR_ART6_1_E'],
        dataCategories: ['name'],
        personalDetails: { ipAddress: IP },
      });
    }
    await producer.flush();
    start('ingest', [root('services/ingest/src/main.ts'), 'run']);
    start('projector', [root('projections/src/cli.ts'), 'run']);
    for (const [i, port] of ports.entries()) start(`api-${i}`, [root('services/access-api/src/main.ts')], { PORT: String(port), SPORBAR_SPOOL_DIR: join(spoolDir, `api-${i}`) });
    const bases = ports.map((p) => `http://127.0.0.1:${p}`);
    const token = devToken({ role: 'citizen', sub: 'citizen-1', cpr: CPR });
    type Page = { items: Array<{ details: null | { status: string; values?: Record<string, string> } }> };
    const get = (base: string) => fetch(`${base}/v1/me/disclosures`, { headers: { authorization: `Bearer ${token}` } });
    const mine = async (base: string): Promise<Page> => {
      const r = await get(base);
      const body = await r.text();
      expect(r.status, body).toBe(200);
      return JSON.parse(body) as Page;
    };
    const projected = async (base: string) => {
      const r = await get(base); // 503 until the projector has made its read models
      return r.ok && ((await r.json()) as Page).items.length === 3;
    };
    for (const base of bases) await waitFor(async () => (await fetch(`${base}/health`).catch(() => null))?.ok === true, 60_000, `API ${base} up`);
    // Both APIs serve the decrypted details (and so hold the key in their caches).
    for (const base of bases) {
      await waitFor(() => projected(base), 120_000, 'three disclosures projected');
      for (let n = 0; n < 2; n++) {
        const page = await mine(base);
        expect(page.items.map((it) => it.details)).toEqual(Array(3).fill({ status: 'ok', values: { ipAddress: IP } }));
      }
    }

    await eraser.requestErasure({ subject: { cpr: CPR }, reason: 'art17-request-0042' });
    await eraser.flush();
    const shredded = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM subject_keys WHERE shredded_at IS NOT NULL')).rows[0]!.n);
    await waitFor(async () => (await shredded()) >= 1, 60_000, 'the ingest shredded the key');
    expect(Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM subject_keys WHERE shredded_at IS NULL')).rows[0]!.n)).toBe(0);

    // The very next request to each instance: erased, within the key caches' 60 s time to live.
    for (const base of bases) {
      const page = await mine(base);
      expect(page.items).toHaveLength(3);
      for (const it of page.items) expect(it.details).toMatchObject({ status: 'erased', cause: 'ERASURE_REQUESTED' });
      expect(JSON.stringify(page)).not.toContain(IP);
    }
  }, 300_000);
});
