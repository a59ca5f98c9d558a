import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SporbarError } from '@sporbar/common/errors';
import { generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store/seal';
import { developmentProducerKey, createInProcessTransport, createProducer } from '@sporbar/producer';
import { developmentProducerRegistry } from '@sporbar/key-store';
import { authorizeByRegistry, buildHttpIngest, createGatewayMetrics, createTokenVerifier, parseGatewayClients, producerOfClient } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';

/** GET /metrics counts what POST /v1/events did; GET /ready answers what the ready check says. */
let keys: SealKeyPair;
let iss: TestIssuer;
beforeAll(async () => {
  keys = await generateSealKeyPair();
  iss = await startTestIssuer();
});
afterAll(() => iss?.close());

const CLIENTS = parseGatewayClients('payments-gw=nemkonto,mitid-gw=mitid-support');
const consent = (activity = 'nemkonto-support') => ({ type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity, scope: 'CALL_RECORDING' });

const setup = (options: { failAfter?: number; ready?: () => Promise<{ ok: boolean; detail?: Record<string, string> }> } = {}) => {
  let sent = 0;
  const transport = createInProcessTransport(async (m) => {
    if (options.failAfter !== undefined && sent >= options.failAfter) throw new SporbarError('SPB_ERR_SPOOL_FULL', 'spool full');
    sent += m.length;
  });
  const routingSecret = randomBytes(32).toString('base64url');
  const metrics = createGatewayMetrics();
  const app = buildHttpIngest({
    producerFor: (producerId) => createProducer({ transport, sealPublicKey: keys.publicKey, routingSecret, sourceSystem: producerId, producerKey: developmentProducerKey('http-ingest') }),
    verifyToken: createTokenVerifier({ issuer: iss.issuer, audience: 'sporbar-producer-gateway', maxLifetimeSeconds: 3600, clockSkewSeconds: 5 }),
    producerOf: producerOfClient(CLIENTS),
    authorize: authorizeByRegistry(developmentProducerRegistry(), 'http-ingest'),
    rateLimit: { max: 4, windowMs: 60_000 },
    metrics,
    ...(options.ready ? { ready: options.ready } : {}),
  });
  return { app, metrics };
};

/** The samples of one metric as `labels value` lines (label sets in Prometheus' order). */
const samples = (text: string, name: string): string[] => [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => `${m[1] ?? ''} ${m[2]}`);

describe('the gateway metrics', () => {
  it('count accepted events by type, refused requests and events by reason, and 429s per client', async () => {
    const { app } = setup();
    const as = async (client: string) => ({ authorization: `Bearer ${await iss.sign({ azp: client })}` });
    const payments = await as('payments-gw');
    const post = async (headers: Record<string, string>, payload: unknown) => (await app.inject({ method: 'POST', url: '/v1/events', headers, payload: payload as Record<string, unknown> })).statusCode;
    expect(await post(payments, { events: [consent(), consent()] })).toBe(202);
    expect(await post(payments, { events: [consent(), { ...consent(), scope: 'NOT_A_SCOPE' }, consent()] })).toBe(400);
    expect(await post(payments, { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'x' })).toBe(403);
    expect(await post({ authorization: 'Bearer nope' }, consent())).toBe(401);
    expect(await post(payments, consent())).toBe(202);
    expect(await post(payments, consent())).toBe(429); // the fifth request of payments-gw in the window
    expect(await post(await as('mitid-gw'), consent('mitid-support'))).toBe(202);

    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const text = res.body;
    expect(samples(text, 'sporbar_gateway_events_accepted_total')).toEqual(['{event_type="ConsentGiven"} 4']);
    expect(samples(text, 'sporbar_gateway_requests_refused_total').sort()).toEqual(
      ['{reason="SPB_ERR_SCHEMA_INVALID"} 1', '{reason="SPB_ERR_PRODUCER_NOT_ALLOWED"} 1', '{reason="SPB_ERR_UNAUTHORIZED"} 1', '{reason="SPB_ERR_RATE_LIMITED"} 1'].sort(),
    );
    // The 400 refused its three events, the 403 its one; the 401 and 429 were refused before their bodies were read.
    expect(samples(text, 'sporbar_gateway_events_refused_total').sort()).toEqual(['{reason="SPB_ERR_PRODUCER_NOT_ALLOWED"} 1', '{reason="SPB_ERR_SCHEMA_INVALID"} 3'].sort());
    expect(samples(text, 'sporbar_gateway_rate_limited_total')).toEqual(['{client="payments-gw"} 1']);
    expect(text).toMatch(/^sporbar_gateway_request_seconds_count\{route="\/v1\/events",status="202"\} 3$/m);
    expect(text).toContain('sporbar_gateway_process_cpu_seconds_total');
  });

  it('count each item the transport refused or did not send', async () => {
    const { app } = setup({ failAfter: 1 });
    const headers = { authorization: `Bearer ${await iss.sign({ azp: 'payments-gw' })}` };
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers, payload: { events: [consent(), consent(), consent()] } });
    expect(res.statusCode).toBe(207);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(samples(text, 'sporbar_gateway_events_accepted_total')).toEqual(['{event_type="ConsentGiven"} 1']);
    expect(samples(text, 'sporbar_gateway_events_refused_total')).toEqual(['{reason="SPB_ERR_SPOOL_FULL"} 2']);
    expect(samples(text, 'sporbar_gateway_requests_refused_total')).toEqual([]);
  });

  it('GET /ready answers the ready check: 200, or 503 naming what failed; /health stays 200', async () => {
    let issuer = 'ok';
    const { app } = setup({ ready: async () => ({ ok: issuer === 'ok', detail: { spool: 'ok', issuer } }) });
    const ready = async () => {
      const r = await app.inject({ method: 'GET', url: '/ready' });
      return { status: r.statusCode, body: r.json() as unknown };
    };
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { spool: 'ok', issuer: 'ok' } } });
    issuer = 'unreachable (ECONNREFUSED)';
    expect(await ready()).toEqual({ status: 503, body: { status: 'not ready', checks: { spool: 'ok', issuer: 'unreachable (ECONNREFUSED)' } } });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
