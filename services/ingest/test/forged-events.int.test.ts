import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer as KafkaProducer } from 'kafkajs';
import { testKafkaBrokers, testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';
import { createKafkaTransport, createInProcessTransport, createProducer, developmentProducerKey, type OutgoingMessage, type ProducerKey } from '@sporbar/producer';
import { createCodec, register, registerFiles, registerPublishedEvents, type EventType } from '@sporbar/schemas';
import { createProducerSigner, DEVELOPMENT_PRODUCER_REGISTRY_FILE, generateSealKeyPair, HEADER_AUTH, HEADER_KEY_ID, type SealKeyPair } from '@sporbar/key-store';
import { createPostgresEventStore, type EventStore, type RecordedEvent } from '@sporbar/event-store';
import { DLQ_HEADER_REASON, DLQ_HEADER_REASON_CODE, ensureTopics } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, kafkaClient, probePostgres, randomName, readTopic, waitFor } from './support.ts';

/**
 * The forged-event suite: through a real Kafka broker, into the real ingest (its own process, with a
 * producer registry file as a deployment has one), onto real PostgreSQL. Every event type × every way
 * of writing what one may not: 0 stored, each in the DLQ with its reason. The legitimate producers'
 * events (sent through both produce encoders) are stored with their authenticated producer id.
 */
const brokers = testKafkaBrokers();
const pgProbe = await probePostgres();
if (!brokers && process.env['CI'] === 'true') throw new Error('Kafka broker missing under CI=true');
if (!pgProbe.url && process.env['CI'] === 'true') throw new Error('PostgreSQL missing under CI=true');
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const TSX = root('node_modules/.bin/tsx');
const codec = createCodec();

const CPR = '240365-1187';
const PSEUDONYM = `psn_k1_${randomBytes(32).toString('base64url')}`;
const mitidFlow = register.activities.find((a) => a.id === 'mitid-core')!.flows[0]!;

/** Who legitimately sends each event type through Kafka; none for the three only Sporbar itself writes (the ingest, the checkpointer). */
const LEGIT: Record<EventType, string> = {
  DisclosureRecorded: 'mitid-core',
  ConsentGiven: 'mitid-core',
  ConsentWithdrawn: 'mitid-core',
  ErasureRequested: 'sporbar-privacy-desk',
  ReportViewed: 'sporbar-access-api',
  RetentionExpired: 'sporbar-retention',
  // Not grantable through Kafka to anyone in the registry; forged as if by an internal principal.
  SubjectKeyShredded: 'sporbar-access-api',
  CheckpointSigned: 'sporbar-access-api',
  RegisterPublished: 'sporbar-access-api',
  SubjectMapCommitted: 'sporbar-access-api',
};
/** A registered producer that lacks the right (the type, or the activity). */
const WITHOUT_RIGHT: Record<EventType, string> = {
  DisclosureRecorded: 'nemkonto', // NemKonto may not record a MitID activity
  ConsentGiven: 'mitid-support', // nor MitID support MitID core's
  ConsentWithdrawn: 'nemkonto',
  ErasureRequested: 'mitid-core',
  ReportViewed: 'mitid-core',
  RetentionExpired: 'sporbar-access-api', // an internal principal, but not this one's
  SubjectKeyShredded: 'sporbar-retention',
  CheckpointSigned: 'mitid-core',
  RegisterPublished: 'mitid-core',
  SubjectMapCommitted: 'mitid-core',
};
const WITH_SOURCE_SYSTEM = new Set<EventType>(['DisclosureRecorded', 'ConsentGiven', 'ConsentWithdrawn', 'ErasureRequested']);
const keyOf = (producerId: string): ProducerKey => developmentProducerKey(producerId, producerId === 'sporbar-privacy-desk' ? 'ed25519' : 'hmac-sha256');

describe.skipIf(!brokers || !pgProbe.url)('forged events through a real broker, the real ingest and PostgreSQL', () => {
  let kafka: Kafka;
  let raw: KafkaProducer;
  let db: { name: string; url: string };
  let store: EventStore;
  let topic: string;
  let seal: SealKeyPair;
  let work: string;
  let ingest: ChildProcess | undefined;
  const logs: string[] = [];

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
    work = mkdtempSync(join(tmpdir(), 'sporbar-forged-'));
  });

  afterAll(async () => {
    if (ingest && ingest.exitCode === null) {
      ingest.kill('SIGTERM');
      await new Promise((r) => ingest!.once('exit', r));
    }
    await raw?.disconnect();
    await store?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
    rmSync(work, { recursive: true, force: true });
  });

  /** One event of a type, made by the SDK (or, for the two the SDK cannot make, by the codec), as `producerKey` would send it. */
  async function eventOf(type: EventType, producerKey: ProducerKey, sourceSystem?: string): Promise<OutgoingMessage> {
    if (type === 'SubjectKeyShredded' || type === 'CheckpointSigned' || type === 'RegisterPublished' || type === 'SubjectMapCommitted') {
      const eventId = randomUUID();
      const value =
        type === 'SubjectKeyShredded'
          ? codec.encode('SubjectKeyShredded', { eventId, occurredAt: Date.now() * 1000, subject: { scheme: 'PSEUDONYM', value: PSEUDONYM }, keyId: 'dk_1', cause: 'ERASURE_REQUESTED', causationEventId: randomUUID() })
          : type === 'RegisterPublished'
            ? codec.encode('RegisterPublished', { ...registerPublishedEvents(registerFiles, new Date())[0]!, eventId })
            : type === 'SubjectMapCommitted'
              ? codec.encode('SubjectMapCommitted', { eventId, occurredAt: Date.now() * 1000, treeSize: 1, rootHash: randomBytes(32) })
              : codec.encode('CheckpointSigned', { eventId, occurredAt: Date.now() * 1000, treeSize: 1, rootHash: randomBytes(32), keyId: 'ck1', algorithm: 'ED25519', signature: randomBytes(64) });
      return { key: eventId, value, headers: { 'sporbar-event-type': type, 'sporbar-event-id': eventId, ...createProducerSigner(producerKey)(value) } };
    }
    const out: OutgoingMessage[] = [];
    const p = createProducer({ transport: createInProcessTransport(async (m) => void out.push(...m)), sealPublicKey: seal.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey, ...(sourceSystem ? { sourceSystem } : {}) });
    await send(p, type);
    return out[0]!;
  }

  async function send(p: ReturnType<typeof createProducer>, type: EventType): Promise<string> {
    const subject = { cpr: CPR };
    switch (type) {
      case 'DisclosureRecorded':
        return (await p.recordDisclosure({ subject, activity: 'mitid-core', recipient: { id: mitidFlow.recipientId, role: mitidFlow.roles[0] }, purpose: mitidFlow.purposeIds[0]!, legalBases: [...mitidFlow.legalBases], dataCategories: [...mitidFlow.categoryIds] })).eventId;
      case 'ConsentGiven':
        return (await p.giveConsent({ subject, activity: 'mitid-core', scope: 'SATISFACTION_SURVEY' })).eventId;
      case 'ConsentWithdrawn':
        return (await p.withdrawConsent({ subject, activity: 'mitid-core', scope: 'SATISFACTION_SURVEY' })).eventId;
      case 'ErasureRequested':
        return (await p.requestErasure({ subject, activity: 'mitid-core', reason: 'Art. 17 request by letter' })).eventId;
      case 'ReportViewed':
        return (await p.recordReportViewed({ subject: { pseudonym: PSEUDONYM }, viewerId: 'cw-1', viewerRole: 'CASEWORKER', reason: 'CASE-2026-1', view: 'report' })).eventId;
      case 'RetentionExpired':
        return (await p.recordRetentionExpired({ subject: { pseudonym: PSEUDONYM }, activity: 'mitid-core', retentionRule: 'mitid-core-while-necessary', coversUntil: new Date('2020-01-01') })).eventId;
      default:
        throw new Error(`the SDK does not send ${type}`);
    }
  }

  it('every event type × every forgery: 0 stored, each dead-lettered with its reason; the legitimate events are stored with their producer id', async () => {
    // The registry as a deployment has it (not marked development), so the ingest runs as in production.
    const doc = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as Record<string, unknown>;
    const registryFile = join(work, 'producers.json');
    writeFileSync(registryFile, JSON.stringify({ ...doc, development: false }));

    // The forgeries, each a fresh event (own eventId), with the reason the ingest must give.
    const forged: Array<{ type: EventType; what: string; message: OutgoingMessage; code: string; reason: RegExp }> = [];
    for (const type of Object.keys(LEGIT) as EventType[]) {
      const legit = keyOf(LEGIT[type]);
      forged.push({ type, what: 'a producer without the right', message: await eventOf(type, keyOf(WITHOUT_RIGHT[type])), code: 'SPB_ERR_NOT_ALLOWED', reason: /may not send/ });
      const bare = await eventOf(type, legit);
      const headers = { ...bare.headers };
      delete headers[HEADER_AUTH];
      delete headers[HEADER_KEY_ID];
      forged.push({ type, what: 'no authenticator', message: { ...bare, headers }, code: 'SPB_ERR_BAD_AUTHENTICATOR', reason: /no authenticator/ });
      forged.push({ type, what: 'a wrong key', message: await eventOf(type, { ...legit, secret: randomBytes(32).toString('base64url') }), code: 'SPB_ERR_BAD_AUTHENTICATOR', reason: /does not verify/ });
      forged.push({ type, what: 'an unknown key id', message: await eventOf(type, { ...legit, keyId: 'k-stolen' }), code: 'SPB_ERR_BAD_AUTHENTICATOR', reason: /key id "k-stolen" is not in the producer registry/ });
      const donor = await eventOf(type, legit);
      const victim = await eventOf(type, legit);
      forged.push({ type, what: 'an authenticator replayed from another event', message: { ...victim, headers: { ...victim.headers, [HEADER_AUTH]: donor.headers[HEADER_AUTH]! } }, code: 'SPB_ERR_BAD_AUTHENTICATOR', reason: /does not verify/ });
      forged.push({ type, what: 'an unknown producer id', message: await eventOf(type, developmentProducerKey('evil-system')), code: 'SPB_ERR_UNKNOWN_PRODUCER', reason: /"evil-system" is not in the producer registry/ });
      const anonymous = await eventOf(type, legit);
      forged.push({ type, what: 'no producer at all', message: { ...anonymous, headers: { 'sporbar-event-type': type } }, code: 'SPB_ERR_UNKNOWN_PRODUCER', reason: /names no producer/ });
      if (WITH_SOURCE_SYSTEM.has(type)) {
        forged.push({ type, what: 'a spoofed sourceSystem', message: await eventOf(type, legit, 'nemkonto'), code: 'SPB_ERR_NOT_ALLOWED', reason: /may not declare sourceSystem "nemkonto"/ });
      }
    }
    const forgedIds = new Set(forged.map((f) => codec.decode(f.message.value).event.eventId));
    expect(forgedIds.size).toBe(forged.length);
    await raw.send({ topic, acks: -1, messages: forged.map((f) => ({ key: f.message.key, value: f.message.value, headers: { ...f.message.headers } })) });

    // The legitimate producers of every type they may send, through both produce encoders.
    const legitIds = new Map<string, string>(); // eventId → producer id
    for (const fastEncoder of [true, false]) {
      const transport = createKafkaTransport({ ...testKafkaClientOptions()!, topic, spoolDir: mkdtempSync(join(work, 'spool-')), fastEncoder });
      for (const type of ['DisclosureRecorded', 'ConsentGiven', 'ConsentWithdrawn', 'ReportViewed', 'RetentionExpired', 'ErasureRequested'] as const) {
        const p = createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: keyOf(LEGIT[type]) });
        legitIds.set(await send(p, type), LEGIT[type]);
      }
      await transport.close();
    }

    ingest = spawn(TSX, [root('services/ingest/src/main.ts'), 'run'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers!.join(','),
        SPORBAR_TOPIC: topic,
        SPORBAR_GROUP_ID: randomName('ingest'),
        SPORBAR_STORE: 'postgres',
        DATABASE_URL: db.url,
        SPORBAR_SEAL_PRIVATE_KEY: seal.privateKey,
        SPORBAR_PSEUDONYM_KEY: randomBytes(32).toString('base64url'),
        SPORBAR_MASTER_KEY: randomBytes(32).toString('base64url'),
        SPORBAR_PRODUCER_REGISTRY: registryFile,
        SPORBAR_ENV: 'production',
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ingest.stdout!.on('data', (b: Buffer) => logs.push(b.toString()));
    ingest.stderr!.on('data', (b: Buffer) => logs.push(b.toString()));

    store = await createPostgresEventStore({ connectionString: db.url });
    const stored = async (): Promise<RecordedEvent[]> => {
      const out: RecordedEvent[] = [];
      try {
        for await (const e of store.readAll()) out.push(e);
      } catch {
        return []; // the ingest has not made the schema yet
      }
      return out;
    };
    await waitFor(async () => (await readTopic(kafka, `${topic}.dlq`)).length >= forged.length, 120_000, `${forged.length} dead letters`);
    await waitFor(async () => (await stored()).filter((e) => legitIds.has(e.eventId)).length === legitIds.size, 60_000, `${legitIds.size} legitimate events stored`);

    const letters = await readTopic(kafka, `${topic}.dlq`);
    expect(letters).toHaveLength(forged.length);
    const byValue = new Map(letters.map((l) => [l.value!.toString('hex'), { code: l.headers![DLQ_HEADER_REASON_CODE]!.toString(), reason: l.headers![DLQ_HEADER_REASON]!.toString() }]));
    const outcome = forged.map((f) => ({ type: f.type, what: f.what, ...(byValue.get(f.message.value.toString('hex')) ?? { code: 'not dead-lettered', reason: '' }) }));
    expect(outcome.map(({ type, what, code }) => ({ type, what, code }))).toEqual(forged.map(({ type, what, code }) => ({ type, what, code })));
    forged.forEach((f, i) => expect(outcome[i]!.reason, `${f.type}: ${f.what}`).toMatch(f.reason));

    const all = await stored();
    expect(all.filter((e) => forgedIds.has(e.eventId))).toEqual([]); // 0 forged events stored
    for (const e of all.filter((x) => legitIds.has(x.eventId))) expect(e.metadata['producer']).toBe(legitIds.get(e.eventId));
    // Only the legitimate events, the ingest's own SubjectKeyShredded of the two erasures and its RegisterPublished of each notice version (at start) are in the store.
    const own = all.filter((e) => !legitIds.has(e.eventId));
    expect(own.every((e) => (e.type === 'SubjectKeyShredded' || e.type === 'RegisterPublished') && e.metadata['producer'] === undefined)).toBe(true);
    expect(own.filter((e) => e.type === 'RegisterPublished').map((e) => e.eventId)).toEqual(registerPublishedEvents(registerFiles, new Date()).map((e) => e.eventId));
    expect(logs.join('')).not.toContain('2403651187');
  }, 240_000);
});
