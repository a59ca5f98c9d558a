import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer as KafkaProducer } from 'kafkajs';
import pg from 'pg';
import { testKafkaBrokers } from '@sporbar/kafka-infra/vitest';
import { createCodec, register, toMicros } from '@sporbar/schemas';
import { createSubjectSealer, formatProducerKey, generateSealKeyPair, routingKey } from '@sporbar/key-store';
import { developmentProducerKey, HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_FINGERPRINT } from '@sporbar/producer';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';
import { DLQ_HEADER_REASON, DLQ_HEADER_REASON_CODE, ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, signedBy, waitFor, pipelineEnv } from './support.ts';

/**
 * The NUL case end to end, each service its own process on a real broker and PostgreSQL: a `\u0000`
 * in `recipient.id` through the HTTP gateway is a 400; the same event written raw to Kafka (a
 * producer that bypasses the SDK) is a DLQ entry with its reason, as is one with a CPR number in
 * `correlationId`; nothing of them is stored; the projector keeps running and projects the valid
 * events sent after them.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
if (!pgProbe.url && process.env['CI'] === 'true') throw new Error('PostgreSQL missing under CI=true');
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const TSX = root('node_modules/.bin/tsx');
const CPR = '150872-3341';

describe.skipIf(!brokers || !pgProbe.url)('poison text through the real pipeline', () => {
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const env: Record<string, string> = {};
  const codec = createCodec();
  let kafka: Kafka;
  let raw: KafkaProducer;
  let db: { name: string; url: string };
  let topic: string;
  let spoolDir: string;
  let gateway: string;
  /** The OAuth2 issuer the gateway trusts, and a client-credentials token of the client it maps to nemkonto. */
  let issuer: TestIssuer;
  let token: string;
  let seal: Awaited<ReturnType<typeof generateSealKeyPair>>;

  const start = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const child = spawn(TSX, args, { env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    child.stderr!.on('data', (b: Buffer) => logs.push(`[${name}] ${b.toString()}`));
    children.push(child);
    return child;
  };
  const sql = async <T,>(text: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: db.url });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.query(text)).rows as T[];
    } catch {
      return [];
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
    db = await createTestDatabase(pgProbe.url!);
    topic = randomName('sporbar.disclosures');
    await ensureTopics(kafka, [
      { topic, numPartitions: 3 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ]);
    seal = await generateSealKeyPair();
    spoolDir = mkdtempSync(join(tmpdir(), 'sporbar-gw-spool-'));
    const gatewayPort = 20000 + Math.floor(Math.random() * 20000);
    gateway = `http://127.0.0.1:${gatewayPort}`;
    Object.assign(env, pipelineEnv({ topic, databaseUrl: db.url, seal }));
    issuer = await startTestIssuer();
    token = await issuer.sign({ azp: 'nemkonto-gw' });
    start('ingest', [root('services/ingest/src/main.ts'), 'run']);
    start('projector', [root('projections/src/cli.ts'), 'run']);
    start('gateway', [root('services/producer-gateway/src/main.ts')], {
      PORT: String(gatewayPort),
      SPORBAR_SPOOL_DIR: spoolDir,
      SPORBAR_GATEWAY_ISSUER: issuer.issuer,
      SPORBAR_GATEWAY_CLIENTS: 'nemkonto-gw=nemkonto',
      SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')),
    });
    await waitFor(async () => (await fetch(`${gateway}/health`).catch(() => null))?.ok === true, 60_000, 'gateway up');
  });

  afterAll(async () => {
    await raw?.disconnect();
    await issuer?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  });

  const flow = register.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
  const httpDisclosure = (patch: Record<string, unknown> = {}) => ({
    type: 'DisclosureRecorded',
    eventId: randomUUID(),
    subject: { cpr: CPR },
    activity: 'nemkonto-register',
    recipient: { id: flow.recipientId, role: flow.roles[0] },
    purpose: flow.purposeIds[0]!,
    legalBases: [...flow.legalBases],
    dataCategories: [...flow.categoryIds],
    ...patch,
  });
  const post = (body: unknown) => fetch(`${gateway}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  /** The event a producer that bypasses the SDK would write: Avro-valid, sealed subject, no text rules. */
  async function rawEvent(patch: Record<string, unknown>) {
    const eventId = randomUUID();
    const event = {
      eventId,
      occurredAt: toMicros(),
      subject: { scheme: 'SEALED' as const, value: await createSubjectSealer(seal.publicKey).seal(CPR) },
      sourceSystem: 'nemkonto',
      controllerCvr: '34051178',
      activity: 'nemkonto-register',
      recipient: { id: flow.recipientId, role: flow.roles[0]! },
      purpose: flow.purposeIds[0]!,
      legalBases: [...flow.legalBases],
      dataCategories: [...flow.categoryIds],
      transfer: null,
      personalDetails: null,
      correlationId: null,
      ...patch,
    };
    // Signed by the producer it claims to be: the text rules are what refuses it, not the authenticator.
    const value = codec.encode('DisclosureRecorded', event as never);
    return {
      eventId,
      message: {
        key: routingKey(CPR.replace('-', ''), Buffer.from(env['SPORBAR_ROUTING_SECRET']!, 'base64url')),
        value,
        headers: { [HEADER_EVENT_TYPE]: 'DisclosureRecorded', [HEADER_FINGERPRINT]: codec.fingerprintHex('DisclosureRecorded'), [HEADER_EVENT_ID]: eventId, ...signedBy('nemkonto', value) },
      },
    };
  }

  it('a NUL in recipient.id: 400 at the gateway, a DLQ entry from raw Kafka, nothing stored, the projector keeps going', async () => {
    const first = httpDisclosure();
    expect((await post(first)).status).toBe(202);

    const nul = httpDisclosure({ recipient: { id: 'danish\u0000tax', role: flow.roles[0] } });
    const refused = await post(nul);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'SPB_ERR_CONTROL_CHARACTER', problems: [{ index: 0, path: 'recipient.id', code: 'SPB_ERR_CONTROL_CHARACTER' }] });

    // The same through a side door: straight onto the topic.
    const poison = await rawEvent({ recipient: { id: 'danish\u0000tax', role: flow.roles[0]! } });
    const leak = await rawEvent({ correlationId: `case ${CPR}` });
    await raw.send({ topic, acks: -1, messages: [poison.message, leak.message] });
    const last = httpDisclosure();
    expect((await post(last)).status).toBe(202);

    const stored = async () => (await sql<{ event_id: string }>("SELECT event_id::text FROM sporbar.events WHERE event_type = 'DisclosureRecorded'")).map((r) => r.event_id);
    await waitFor(async () => (await stored()).includes(last.eventId), 120_000, 'the valid event after the poison stored');
    expect((await stored()).sort()).toEqual([first.eventId, last.eventId].sort());

    const letters = await readTopic(kafka, `${topic}.dlq`);
    expect(letters.map((l) => l.headers![DLQ_HEADER_REASON_CODE]!.toString()).sort()).toEqual(['SPB_ERR_CONTROL_CHARACTER', 'SPB_ERR_CPR_IN_TEXT']);
    const reasons = letters.map((l) => l.headers![DLQ_HEADER_REASON]!.toString());
    expect(reasons).toContainEqual(expect.stringContaining('DisclosureRecorded.recipient.id: contains the control character U+0000'));
    expect(reasons).toContainEqual(expect.stringContaining('DisclosureRecorded.correlationId: holds something shaped like a CPR number'));
    expect(reasons.join('')).not.toMatch(/150872|1508723341|danish/);
    expect(new Set(letters.map((l) => l.value!.toString('hex')))).toEqual(new Set([poison.message.value.toString('hex'), leak.message.value.toString('hex')]));

    // The projector is alive and has projected everything stored, the event after the poison included.
    const head = async () => Number((await sql<{ p: string }>('SELECT coalesce(max(global_position), 0) AS p FROM sporbar.events'))[0]?.p ?? -1);
    const projected = async () => Number((await sql<{ p: string }>('SELECT coalesce(min(position), -1) AS p FROM projection_checkpoints'))[0]?.p ?? -1);
    await waitFor(async () => (await projected()) >= (await head()), 60_000, 'projector caught up');
    const rows = await sql<{ n: string }>('SELECT count(*) AS n FROM rm_subject_disclosures');
    expect(Number(rows[0]?.n)).toBe(2);
    expect(children.every((c) => c.exitCode === null)).toBe(true);
    expect(logs.join('')).not.toMatch(/150872|1508723341/);
  });
});
