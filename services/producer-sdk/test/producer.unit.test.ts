import { createHmac, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { createCodec } from '@sporbar/schemas';
import { createSubjectOpener, generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store/seal';
import { routingKey } from '@sporbar/key-store/routing';
import { createProducerVerifier, developmentProducerRegistry } from '@sporbar/key-store';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage, type Producer } from '../src/index.ts';
import { routingHasher } from '@sporbar/key-store/routing';

const CPR = '150872-3341';
const codec = createCodec();
let keys: SealKeyPair;
let sent: OutgoingMessage[];
let producer: Producer;

beforeAll(async () => {
  keys = await generateSealKeyPair();
});

const setup = (handler?: (m: readonly OutgoingMessage[]) => Promise<void>) => {
  sent = [];
  producer = createProducer({
    transport: createInProcessTransport(handler ?? (async (m) => void sent.push(...m))),
    sealPublicKey: keys.publicKey,
    routingSecret: randomBytes(32).toString('base64url'),
    producerKey: developmentProducerKey('mitid-core'),
  });
};

const login = {
  subject: { cpr: CPR },
  activity: 'mitid-core',
  recipient: { id: 'mitid-broker', role: 'SUB_PROCESSOR' as const },
  purpose: 'mitid-issuance-administration-use',
  legalBases: ['MITID_ACT_783_2021' as const, 'GDPR_ART6_1_E' as const],
  dataCategories: ['risk-data', 'authentication-response'],
  occurredAt: new Date('2026-11-01T10:00:00.123Z'),
  correlationId: 'login-1',
};

describe('producer SDK', () => {
  it('records a disclosure as one Avro message with the subject sealed', async () => {
    setup();
    const { eventId, eventType } = await producer.recordDisclosure(login);
    expect(eventType).toBe('DisclosureRecorded');
    expect(sent).toHaveLength(1);
    const decoded = codec.decode(sent[0]!.value);
    expect(decoded.eventType).toBe('DisclosureRecorded');
    const event = decoded.event as import('@sporbar/schemas').DisclosureRecorded;
    expect(event).toMatchObject({
      eventId,
      occurredAt: 1_793_527_200_123_000,
      sourceSystem: 'mitid-core',
      controllerCvr: '34051178',
      recipient: { id: 'mitid-broker', role: 'SUB_PROCESSOR' },
      legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
      transfer: null,
      correlationId: 'login-1',
    });
    expect(event.subject.scheme).toBe('SEALED');
    expect(await createSubjectOpener(keys.privateKey).open(event.subject.value)).toBe('1508723341');
  });

  it('puts no CPR number in the key, the headers or the bytes', async () => {
    setup();
    for (let i = 0; i < 20; i++) await producer.recordDisclosure(login);
    for (const m of sent) {
      const everything = [m.key, JSON.stringify(m.headers), m.value.toString('latin1')].join('|');
      expect(everything).not.toContain('1508723341');
      expect(everything).not.toContain('150872-3341');
      expect(everything).not.toContain('150872');
    }
    expect(new Set(sent.map((m) => m.key)).size).toBe(1); // one subject, one partition key
    expect(sent[0]!.headers).toEqual({
      'sporbar-event-type': 'DisclosureRecorded',
      'sporbar-fingerprint': codec.fingerprintHex('DisclosureRecorded'),
      'sporbar-event-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'sporbar-producer': 'mitid-core',
      'sporbar-key-id': 'dev1',
      'sporbar-auth': expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    // The fingerprint header is written in the byte order of the value's own bytes 2..9 (little-endian).
    for (const m of sent) expect(m.headers['sporbar-fingerprint']).toBe(Buffer.from(m.value).subarray(2, 10).toString('hex'));
    // The authenticator verifies over exactly the value with the development registry's key, and over no other event's.
    const verify = createProducerVerifier(developmentProducerRegistry());
    for (const m of sent) expect(verify(m.value, m.headers)).toBe('mitid-core');
    expect(() => verify(sent[1]!.value, sent[0]!.headers)).toThrow(/does not verify/);
  });

  it('signs with an Ed25519 key when given one', async () => {
    const out: OutgoingMessage[] = [];
    const desk = createProducer({ transport: createInProcessTransport(async (m) => void out.push(...m)), sealPublicKey: keys.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: developmentProducerKey('sporbar-privacy-desk', 'ed25519') });
    await desk.requestErasure({ subject: { cpr: '150872-3341' }, reason: 'Art. 17 request' });
    expect(out[0]!.headers['sporbar-auth']).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(createProducerVerifier(developmentProducerRegistry())(out[0]!.value, out[0]!.headers)).toBe('sporbar-privacy-desk');
    expect(createCodec().decode(out[0]!.value).event).toMatchObject({ sourceSystem: 'sporbar-privacy-desk' });
  });

  it('validates against the schema before sending, naming the field', async () => {
    setup();
    const bad = { ...login, recipient: { id: 'mitid-broker', role: 'FRIEND' as never } };
    await expect(producer.recordDisclosure(bad)).rejects.toThrow(/DisclosureRecorded\.recipient\.role: expected one of/);
    await expect(producer.recordDisclosure({ ...login, eventId: 'nope' })).rejects.toThrow(/eventId: expected uuid/);
    await expect(producer.recordDisclosure({ ...login, subject: { cpr: '99999' } })).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_SCHEMA_INVALID'));
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['a NUL in recipient.id', { ...login, recipient: { id: 'mitid\u0000broker', role: 'SUB_PROCESSOR' as const } }, 'SPB_ERR_CONTROL_CHARACTER', 'recipient.id'],
    ['a line feed in correlationId', { ...login, correlationId: 'a\nb' }, 'SPB_ERR_CONTROL_CHARACTER', 'correlationId'],
    ['a CPR number in correlationId', { ...login, correlationId: `case ${CPR}` }, 'SPB_ERR_CPR_IN_TEXT', 'correlationId'],
    ['a CPR number in a data category', { ...login, dataCategories: ['risk-data', 'x1508723341'] }, 'SPB_ERR_CPR_IN_TEXT', 'dataCategories[1]'],
    ['a NUL in a personal detail', { ...login, personalDetails: { freeText: 'a\u0000' } }, 'SPB_ERR_CONTROL_CHARACTER', 'personalDetails.freeText'],
  ])('refuses %s before anything is sent, naming the field, never the value', async (_name, input, code, path) => {
    setup();
    const e = await producer.recordDisclosure(input).catch((err: unknown) => err);
    expect(isSporbarError(e, code as 'SPB_ERR_CPR_IN_TEXT')).toBe(true);
    expect((e as Error).message.startsWith(`DisclosureRecorded.${path}:`)).toBe(true);
    expect((e as Error).message).not.toMatch(/150872|1508723341|mitid.broker/);
    expect(sent).toHaveLength(0);
  });

  it('allows line breaks and CPR numbers inside personal details (sealed), and the erasure reason is single-line', async () => {
    setup();
    await producer.recordDisclosure({ ...login, personalDetails: { freeText: `line one\nCPR ${CPR}` } });
    expect(sent).toHaveLength(1);
    await expect(producer.requestErasure({ subject: { cpr: CPR }, reason: 'by letter\nsigned' })).rejects.toMatchObject({ code: 'SPB_ERR_CONTROL_CHARACTER' });
    await expect(producer.requestErasure({ subject: { cpr: CPR }, reason: `erase ${CPR.replace('-', '')}` })).rejects.toMatchObject({ code: 'SPB_ERR_CPR_IN_TEXT' });
    await expect(producer.recordReportViewed({ subject: { pseudonym: 'x' }, viewerId: 'dpo-0101901234', viewerRole: 'DPO', view: 'art15' })).rejects.toMatchObject({ code: 'SPB_ERR_CPR_IN_TEXT' });
    expect(sent).toHaveLength(1);
  });

  it('records consent, withdrawal and erasure requests', async () => {
    setup();
    await producer.giveConsent({ subject: { cpr: CPR }, activity: 'mitid-support', scope: 'CALL_RECORDING' });
    await producer.withdrawConsent({ subject: { cpr: CPR }, activity: 'mitid-support', scope: 'CALL_RECORDING' });
    await producer.requestErasure({ subject: { cpr: CPR }, reason: 'citizen request by Digital Post' });
    expect(sent.map((m) => codec.decode(m.value).eventType)).toEqual(['ConsentGiven', 'ConsentWithdrawn', 'ErasureRequested']);
    expect(codec.decode(sent[2]!.value).event).toMatchObject({ activity: null, reason: 'citizen request by Digital Post' });
  });

  it('a given eventId is kept (end-to-end idempotent retries)', async () => {
    setup();
    const eventId = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
    expect((await producer.recordDisclosure({ ...login, eventId })).eventId).toBe(eventId);
    expect(codec.decode(sent[0]!.value).event).toMatchObject({ eventId });
  });

  it('the in-process transport delivers in order, one batch at a time, and surfaces failures', async () => {
    const seen: string[] = [];
    let running = 0;
    setup(async (m) => {
      running++;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(m[0]!.headers['sporbar-event-id']!);
      running--;
    });
    const ids = await Promise.all(Array.from({ length: 10 }, () => producer.recordDisclosure(login)));
    await producer.flush();
    expect(seen).toEqual(ids.map((r) => r.eventId));
    setup(async () => {
      throw new Error('ingest down');
    });
    await expect(producer.recordDisclosure(login)).rejects.toThrow('ingest down');
  });

  it('partition keys: routingKey() of the CPR number, HMAC-SHA256 of the pseudonym, whatever the secret length', async () => {
    for (const secretBytes of [32, 63, 64, 65, 200]) {
      const secret = randomBytes(secretBytes);
      const hasher = routingHasher(secret);
      for (const cpr of ['150872-3341', '0101901234', '311299-9999']) expect(hasher(cpr.replace('-', ''))).toBe(routingKey(cpr, secret));
      for (const id of ['', 'psn_k1_' + 'a'.repeat(43), 'ø'.repeat(300), randomBytes(400).toString('base64url')]) {
        expect(hasher(id)).toBe(createHmac('sha256', secret).update(id).digest('base64url').slice(0, 16));
      }
    }
    const secret = randomBytes(32);
    sent = [];
    producer = createProducer({ transport: createInProcessTransport(async (m) => void sent.push(...m)), sealPublicKey: keys.publicKey, routingSecret: secret.toString('base64url'), producerKey: developmentProducerKey('mitid-core') });
    const pseudonym = `psn_k1_${'b'.repeat(43)}`;
    for (let i = 0; i < 3; i++) {
      await producer.recordDisclosure(login);
      await producer.recordReportViewed({ subject: { pseudonym }, viewerId: 'citizen', viewerRole: 'CITIZEN', view: 'overview' });
    }
    expect(sent.map((m) => m.key)).toEqual(Array.from({ length: 3 }, () => [routingKey(CPR, secret), createHmac('sha256', secret).update(pseudonym).digest('base64url').slice(0, 16)]).flat());
  });

  it('producerKey: null (the pipeline bench\'s authentication-off side) sends no authenticator, and needs a sourceSystem', async () => {
    const base = { transport: createInProcessTransport(async (m) => void sent.push(...m)), sealPublicKey: keys.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: null };
    expect(() => createProducer(base)).toThrow(/sourceSystem is required/);
    sent = [];
    await createProducer({ ...base, sourceSystem: 'mitid-core' }).recordDisclosure(login);
    expect(Object.keys(sent[0]!.headers).sort()).toEqual(['sporbar-event-id', 'sporbar-event-type', 'sporbar-fingerprint']);
    expect((codec.decode(sent[0]!.value).event as { sourceSystem: string }).sourceSystem).toBe('mitid-core');
    // The ingest's verifier refuses it: only an ingest with authentication off (development only) stores it.
    expect(() => createProducerVerifier(developmentProducerRegistry())(sent[0]!.value, sent[0]!.headers)).toThrow(/names no producer/);
  });
});
