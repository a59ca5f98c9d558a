import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec, parseProducerRegistry } from '@sporbar/schemas';
import { developmentCredential } from '@sporbar/key-store/producer-auth';
import { createSubjectOpener, generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store/seal';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage } from '@sporbar/producer';
import { authorizeByRegistry, buildHttpIngest, createTokenVerifier, GATEWAY_AJV_OPTIONS, httpEventBodySchema, parseGatewayClients, producerOfClient, type Authorize } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';

const codec = createCodec();
let keys: SealKeyPair;
let iss: TestIssuer;
let token: string;
beforeAll(async () => {
  keys = await generateSealKeyPair();
  iss = await startTestIssuer();
  token = await iss.sign({ azp: 'payments-gw' });
});
afterAll(() => iss?.close());

const CLIENTS = parseGatewayClients('payments-gw=legacy-payments,mitid-gw=mitid-core');
/** The producer registry of these tests: what each client's producer may send (the gateway's own entry allows all its clients send). */
const REGISTRY = parseProducerRegistry({
  producers: [
    { id: 'legacy-payments', name: 'a legacy payment system', keys: [developmentCredential('legacy-payments')], eventTypes: ['DisclosureRecorded', 'ConsentGiven', 'ErasureRequested'], activities: '*' },
    { id: 'mitid-core', name: 'MitID core', keys: [developmentCredential('mitid-core')], eventTypes: ['ConsentGiven'], activities: ['mitid-support'] },
    { id: 'http-ingest', name: 'the gateway', sourceSystems: ['legacy-payments', 'mitid-core'], keys: [developmentCredential('http-ingest')], eventTypes: ['DisclosureRecorded', 'ConsentGiven', 'ConsentWithdrawn', 'ErasureRequested'], activities: '*' },
  ],
});

const setup = (handler?: (m: readonly OutgoingMessage[]) => Promise<void>, extra: { authorize?: Authorize; rateLimit?: { max: number; windowMs: number } } = {}) => {
  const sent: OutgoingMessage[] = [];
  const transport = createInProcessTransport(handler ?? (async (m) => void sent.push(...m)));
  const routingSecret = randomBytes(32).toString('base64url');
  const app = buildHttpIngest({
    producerFor: (producerId) => createProducer({ transport, sealPublicKey: keys.publicKey, routingSecret, sourceSystem: producerId, producerKey: developmentProducerKey('http-ingest') }),
    verifyToken: createTokenVerifier({ issuer: iss.issuer, audience: 'sporbar-producer-gateway', maxLifetimeSeconds: 3600, clockSkewSeconds: 5 }),
    producerOf: producerOfClient(CLIENTS),
    authorize: extra.authorize ?? authorizeByRegistry(REGISTRY, 'http-ingest'),
    ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
  });
  return { sent, app };
};
const auth = () => ({ authorization: `Bearer ${token}` });

const disclosure = () => ({
  type: 'DisclosureRecorded',
  eventId: randomUUID(),
  occurredAt: '2026-11-20T10:00:00.000Z',
  subject: { cpr: '210376-4411' },
  activity: 'nemkonto-register',
  recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
  purpose: 'nemkonto-payments',
  legalBases: ['LBK_494_2023'],
  dataCategories: ['transaction-history'],
  personalDetails: { accountNumber: '1234-5678901234' },
});

describe('POST /v1/events', () => {
  it('accepts one event or a batch with 202, sealed exactly like the SDK, in order', async () => {
    const { app, sent } = setup();
    const one = disclosure();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: one });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: [{ eventId: one.eventId, eventType: 'DisclosureRecorded' }] });
    const batch = [
      { type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity: 'mitid-support', scope: 'CALL_RECORDING' },
      disclosure(),
      { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'Art. 17 by letter' },
    ];
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { events: batch } })).statusCode).toBe(202);
    expect(sent.map((m) => codec.decode(m.value).eventType)).toEqual(['DisclosureRecorded', 'ConsentGiven', 'DisclosureRecorded', 'ErasureRequested']);
    // The recorded sourceSystem is the producer the token's client is configured as.
    expect(sent.map((m) => (codec.decode(m.value).event as { sourceSystem: string }).sourceSystem)).toEqual(Array(4).fill('legacy-payments'));
    const first = codec.decode(sent[0]!.value).event as { eventId: string; subject: { scheme: string; value: string }; personalDetails: Buffer };
    expect(first.eventId).toBe(one.eventId);
    expect(await createSubjectOpener(keys.privateKey).open(first.subject.value)).toBe('2103764411');
    const wire = sent.map((m) => m.key + JSON.stringify(m.headers) + m.value.toString('latin1')).join('');
    expect(wire).not.toMatch(/2103764411|210376-4411|5678901234/);
  });

  it.each([
    ['no eventId', { ...disclosure(), eventId: undefined }],
    ['unknown role', { ...disclosure(), recipient: { id: 'x', role: 'FRIEND' } }],
    ['unknown type', { ...disclosure(), type: 'Whatever' }],
    ['extra field', { ...disclosure(), cprInClear: '210376-4411' }],
    ['bad CPR', { ...disclosure(), subject: { cpr: '99' } }],
    ['too many in a batch', { events: Array.from({ length: 501 }, disclosure) }],
  ])('%s is a 400 naming the problem, nothing sent, the CPR number never echoed', async (_name, body) => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: body });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { code: string }).code).toBe('SPB_ERR_SCHEMA_INVALID');
    expect(res.body).not.toContain('210376');
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['a number where a string is declared', { correlationId: 42 }, 'correlationId'],
    ['a boolean where a string is declared', { purpose: true }, 'purpose'],
    ['a string where an array is declared', { legalBases: 'LBK_494_2023' }, 'legalBases'],
    ['a string where an object is declared', { recipient: 'danish-tax-authority' }, 'recipient'],
    ['a number-like string where a string is fine, but in an array of strings a number', { dataCategories: [7] }, 'dataCategories[0]'],
  ])('no type coercion: %s is a 400 naming the field, nothing sent', async (_name, patch, path) => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { ...disclosure(), ...patch } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; problems: Array<{ index: number; path: string; code: string }> };
    expect(body.code).toBe('SPB_ERR_SCHEMA_INVALID');
    expect(body.problems).toContainEqual(expect.objectContaining({ index: 0, path, code: 'SPB_ERR_SCHEMA_INVALID' }));
    expect(sent).toHaveLength(0);
  });

  it('unknown properties are refused, not silently dropped; no default is filled in (none declared, useDefaults off)', async () => {
    expect(GATEWAY_AJV_OPTIONS).toMatchObject({ coerceTypes: false, useDefaults: false, removeAdditional: false });
    expect(JSON.stringify(httpEventBodySchema())).not.toContain('"default"');
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { ...disclosure(), recipient: { id: 'x', role: 'PUBLIC_AUTHORITY', note: 'y' } } });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { problems: Array<{ path: string; message: string }> }).problems).toEqual([expect.objectContaining({ path: 'recipient', message: expect.stringContaining("unknown property 'note'") })]);
    const cprKey = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { ...disclosure(), '210376-4411': 'x' } });
    expect(cprKey.statusCode).toBe(400);
    expect(cprKey.body).not.toContain('210376');
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['a NUL in recipient.id', { recipient: { id: 'danish\u0000tax', role: 'PUBLIC_AUTHORITY' } }, 'recipient.id', 'SPB_ERR_CONTROL_CHARACTER'],
    ['a line feed in correlationId', { correlationId: 'a\nb' }, 'correlationId', 'SPB_ERR_CONTROL_CHARACTER'],
    ['a right-to-left override in purpose', { purpose: 'nemkonto\u202epayments' }, 'purpose', 'SPB_ERR_CONTROL_CHARACTER'],
    ['a CPR number in correlationId', { correlationId: 'case 210376-4411' }, 'correlationId', 'SPB_ERR_CPR_IN_TEXT'],
    ['a CPR number without the dash in recipient.id', { recipient: { id: 'citizen2103764411', role: 'PUBLIC_AUTHORITY' } }, 'recipient.id', 'SPB_ERR_CPR_IN_TEXT'],
    ['a NUL in a personal detail', { personalDetails: { freeText: 'x\u0000' } }, 'personalDetails.freeText', 'SPB_ERR_CONTROL_CHARACTER'],
  ])('%s is a 400 with its own code naming the field, never the value', async (_name, patch, path, code) => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { ...disclosure(), ...patch } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code, problems: [{ index: 0, path, code }] });
    expect(res.body).not.toMatch(/210376|danish.tax|nemkonto.payments/);
    expect(sent).toHaveLength(0);
  });

  it('an erasure reason is single-line and holds no CPR number; personal details may hold line breaks', async () => {
    const { app, sent } = setup();
    const erasure = (reason: string) => ({ type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason });
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: erasure('by letter\nsigned') })).json()).toMatchObject({ code: 'SPB_ERR_CONTROL_CHARACTER' });
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: erasure('for 2103764411') })).json()).toMatchObject({ code: 'SPB_ERR_CPR_IN_TEXT' });
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: erasure('order 4512345678, tel. +45 33926700') })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { ...disclosure(), personalDetails: { freeText: 'line 1\r\nline 2' } } })).statusCode).toBe(202);
    expect(sent).toHaveLength(2);
  });

  it('a batch [valid, valid, bad, bad] is a 400 listing each bad item by index and field; nothing of it is sent', async () => {
    const { app, sent } = setup();
    const batch = [disclosure(), disclosure(), { ...disclosure(), recipient: { id: 'x\u0000', role: 'PUBLIC_AUTHORITY' } }, { ...disclosure(), legalBases: 'LBK_494_2023', correlationId: 42 }];
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { events: batch } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; message: string; problems: Array<{ index: number; path: string; code: string }> };
    expect(body.code).toBe('SPB_ERR_SCHEMA_INVALID'); // several codes: the generic one, each problem has its own
    expect(body.message).toMatch(/^3 problem\(s\); nothing was sent\. First: events\[2\]\.recipient\.id: /);
    expect(body.problems.map((p) => [p.index, p.path, p.code])).toEqual([
      [2, 'recipient.id', 'SPB_ERR_CONTROL_CHARACTER'],
      [3, 'legalBases', 'SPB_ERR_SCHEMA_INVALID'],
      [3, 'correlationId', 'SPB_ERR_SCHEMA_INVALID'],
    ]);
    expect(sent).toHaveLength(0);
  });

  it('a transport that fails mid-batch: 207 with each item\'s outcome; the ones after the failure are not sent; a retry of exactly those completes the batch', async () => {
    const { SporbarError } = await import('@sporbar/common/errors');
    let room = 2;
    const { app, sent } = setup(async (m) => {
      if (room <= 0) throw new SporbarError('SPB_ERR_SPOOL_FULL', 'spool full');
      room -= m.length;
      sent.push(...m);
    });
    const batch = [disclosure(), disclosure(), disclosure(), disclosure()];
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { events: batch } });
    expect(res.statusCode).toBe(207);
    const body = res.json() as { code: string; results: Array<{ index: number; eventId: string; status: string; code?: string }> };
    expect(body.code).toBe('SPB_ERR_SPOOL_FULL');
    expect(body.results).toEqual([
      { index: 0, eventId: batch[0]!.eventId, eventType: 'DisclosureRecorded', status: 'accepted' },
      { index: 1, eventId: batch[1]!.eventId, eventType: 'DisclosureRecorded', status: 'accepted' },
      { index: 2, eventId: batch[2]!.eventId, eventType: 'DisclosureRecorded', status: 'failed', code: 'SPB_ERR_SPOOL_FULL' },
      { index: 3, eventId: batch[3]!.eventId, eventType: 'DisclosureRecorded', status: 'not_sent', code: 'SPB_ERR_SPOOL_FULL' },
    ]);
    expect(sent.map((m) => codec.decode(m.value).event.eventId)).toEqual([batch[0]!.eventId, batch[1]!.eventId]);

    // None accepted: the failure's own status (503), the results still listed.
    const none = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { events: batch.slice(2) } });
    expect(none.statusCode).toBe(503);
    expect((none.json() as { results: Array<{ status: string }> }).results.map((r) => r.status)).toEqual(['failed', 'not_sent']);

    room = 10;
    const retry = body.results.filter((r) => r.status !== 'accepted').map((r) => batch[r.index]!);
    const again = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { events: retry } });
    expect(again.statusCode).toBe(202);
    expect(sent.map((m) => codec.decode(m.value).event.eventId)).toEqual(batch.map((e) => e.eventId));
  });

  it('when the transport cannot take the event (spool full), the caller gets a 503, not a 202', async () => {
    const { SporbarError } = await import('@sporbar/common/errors');
    const { app } = setup(async () => {
      throw new SporbarError('SPB_ERR_SPOOL_FULL', 'spool full');
    });
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: disclosure() });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_SPOOL_FULL' });
  });
});

describe('POST /v1/events: who may write what', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ['a malformed token', 'Bearer not-a-jwt'],
  ])('%s is a 401 (WWW-Authenticate: Bearer), nothing sent', async (_name, header) => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: header ? { authorization: header } : {}, payload: disclosure() });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(sent).toHaveLength(0);
  });

  it('a token of a client that is not configured is a 403, nothing sent', async () => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${await iss.sign({ azp: 'stranger' })}` }, payload: disclosure() });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_PRODUCER_NOT_ALLOWED' });
    expect(sent).toHaveLength(0);
  });

  it('an event type outside the producer allow-list is a 403 for the whole batch: nothing of it is sent', async () => {
    const { app, sent } = setup();
    const mitid = { authorization: `Bearer ${await iss.sign({ azp: 'mitid-gw' })}` };
    const consent = { type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity: 'mitid-support', scope: 'CALL_RECORDING' };
    const erasure = { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'Art. 17' };
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: mitid, payload: { events: [consent, erasure] } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      code: 'SPB_ERR_PRODUCER_NOT_ALLOWED',
      message: '1 item(s) not allowed; nothing was sent. First: events[1].type: producer mitid-core may not send ErasureRequested',
      problems: [{ index: 1, path: 'type', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: 'type: producer mitid-core may not send ErasureRequested' }],
    });
    expect(sent).toHaveLength(0);
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: mitid, payload: consent })).statusCode).toBe(202);
    expect((codec.decode(sent[0]!.value).event as { sourceSystem: string }).sourceSystem).toBe('mitid-core');
  });

  it('an activity outside the producer allow-list is a 403 naming each refused item and field; the whole body is checked first, nothing sent', async () => {
    const { app, sent } = setup();
    const mitid = { authorization: `Bearer ${await iss.sign({ azp: 'mitid-gw' })}` };
    const consent = (activity: string) => ({ type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity, scope: 'CALL_RECORDING' });
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: mitid, payload: { events: [consent('mitid-support'), consent('nemkonto-support'), disclosure()] } });
    expect(res.statusCode).toBe(403);
    expect(res.json().problems).toEqual([
      { index: 1, path: 'activity', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: 'activity: producer mitid-core may not send ConsentGiven for activity nemkonto-support' },
      { index: 2, path: 'type', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: 'type: producer mitid-core may not send DisclosureRecorded' },
    ]);
    expect(res.json().message).toBe('2 item(s) not allowed; nothing was sent. First: events[1].activity: producer mitid-core may not send ConsentGiven for activity nemkonto-support');
    // One event (not a batch): the message names the field without an index.
    const one = await app.inject({ method: 'POST', url: '/v1/events', headers: mitid, payload: consent('nemkonto-support') });
    expect(one.json().message).toBe('1 item(s) not allowed; nothing was sent. First: activity: producer mitid-core may not send ConsentGiven for activity nemkonto-support');
    expect(sent).toHaveLength(0);
  });

  it("the gateway's own registry entry applies too (the ingest checks the event against it): outside it, a 403 before anything is sent", async () => {
    const narrow = parseProducerRegistry({ producers: REGISTRY.producers.map((p) => (p.id === 'http-ingest' ? { ...p, eventTypes: ['DisclosureRecorded'] } : p)) });
    const { app, sent } = setup(undefined, { authorize: authorizeByRegistry(narrow, 'http-ingest') });
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'Art. 17' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().problems).toEqual([{ index: 0, path: 'type', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: 'type: producer http-ingest may not send ErasureRequested' }]);
    expect(sent).toHaveLength(0);
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: disclosure() })).statusCode).toBe(202);
  });

  it('the authorize seam gets the producer, the event type and the activity', async () => {
    const calls: unknown[] = [];
    const { app, sent } = setup(undefined, {
      authorize: (producerId, eventType, activity) => (calls.push([producerId, eventType, activity]), activity !== 'nemkonto-register' ? { ok: true } : { ok: false, path: 'activity', reason: 'no' }),
    });
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: disclosure() });
    expect(res.statusCode).toBe(403);
    expect(calls).toEqual([['legacy-payments', 'DisclosureRecorded', 'nemkonto-register']]);
    expect(sent).toHaveLength(0);
  });

  it('limits requests per client (429 SPB_ERR_RATE_LIMITED), each client on its own budget', async () => {
    const { app } = setup(undefined, { rateLimit: { max: 2, windowMs: 60_000 } });
    const post = async (headers: Record<string, string>) => (await app.inject({ method: 'POST', url: '/v1/events', headers, payload: { type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity: 'mitid-support', scope: 'CALL_RECORDING' } })).statusCode;
    expect([await post(auth()), await post(auth())]).toEqual([202, 202]);
    const limited = await app.inject({ method: 'POST', url: '/v1/events', headers: auth(), payload: disclosure() });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'SPB_ERR_RATE_LIMITED' });
    expect(await post({ authorization: `Bearer ${await iss.sign({ azp: 'mitid-gw' })}` })).toBe(202);
  });

  it('GET /health needs no token', async () => {
    const { app } = setup();
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
