import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCodec } from '@sporbar/schemas';
import { createSubjectOpener, generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store/seal';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage } from '@sporbar/producer';
import { buildHttpIngest } from '../src/index.ts';

const codec = createCodec();
let keys: SealKeyPair;
beforeAll(async () => {
  keys = await generateSealKeyPair();
});

const setup = (handler?: (m: readonly OutgoingMessage[]) => Promise<void>) => {
  const sent: OutgoingMessage[] = [];
  const producer = createProducer({
    transport: createInProcessTransport(handler ?? (async (m) => void sent.push(...m))),
    sealPublicKey: keys.publicKey,
    routingSecret: randomBytes(32).toString('base64url'),
    producerKey: developmentProducerKey('legacy-payments'),
  });
  return { sent, app: buildHttpIngest({ producer }) };
};

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
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: one });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: [{ eventId: one.eventId, eventType: 'DisclosureRecorded' }] });
    const batch = [
      { type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity: 'mitid-support', scope: 'CALL_RECORDING' },
      disclosure(),
      { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'Art. 17 by letter' },
    ];
    expect((await app.inject({ method: 'POST', url: '/v1/events', payload: { events: batch } })).statusCode).toBe(202);
    expect(sent.map((m) => codec.decode(m.value).eventType)).toEqual(['DisclosureRecorded', 'ConsentGiven', 'DisclosureRecorded', 'ErasureRequested']);
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
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: body });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { code: string }).code).toBe('SPB_ERR_SCHEMA_INVALID');
    expect(res.body).not.toContain('210376');
    expect(sent).toHaveLength(0);
  });

  it('today the endpoint coerces scalars (fastify\'s default ajv coerceTypes: \'array\'): pinned, so that turning it off is a deliberate change', async () => {
    const { app, sent } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { ...disclosure(), correlationId: 42, purpose: true, legalBases: 'LBK_494_2023' } });
    expect(res.statusCode).toBe(202);
    const e = codec.decode(sent[0]!.value).event as { correlationId: string; purpose: string; legalBases: string[] };
    expect(e).toMatchObject({ correlationId: '42', purpose: 'true', legalBases: ['LBK_494_2023'] });
  });

  it('when the transport cannot take the event (spool full), the caller gets a 503, not a 202', async () => {
    const { SporbarError } = await import('@sporbar/common/errors');
    const { app } = setup(async () => {
      throw new SporbarError('SPB_ERR_SPOOL_FULL', 'spool full');
    });
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: disclosure() });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_SPOOL_FULL' });
  });
});
