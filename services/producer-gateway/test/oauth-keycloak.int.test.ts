/**
 * POST /v1/events against a real authorization server: Keycloak (the one KEYCLOAK_URL names, or one
 * started for this file), realms and clients created through its admin REST API, client-credentials
 * tokens from its token endpoint, the gateway's verifier fetching its discovery document and JWKS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, provisionRealm, type ProvisionedRealm } from '@sporbar/keycloak-infra';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '@sporbar/keycloak-infra/vitest';
import { createCodec } from '@sporbar/schemas';
import { generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store/seal';
import { developmentProducerRegistry } from '@sporbar/key-store';
import { createInProcessTransport, createProducer, developmentProducerKey, type OutgoingMessage } from '@sporbar/producer';
import { authorizeByRegistry, buildHttpIngest, createTokenVerifier, parseGatewayClients, producerOfClient } from '../src/index.ts';

const AUDIENCE = 'sporbar-producer-gateway';
const available = keycloakAvailable();
const codec = createCodec();
const tag = randomBytes(3).toString('hex');

/** A disclosure for `activity`: client A (producer mitid-core) may record MitID activities, client B (nemkonto) NemKonto ones. */
const disclosure = (activity = 'mitid-core') => ({
  type: 'DisclosureRecorded',
  eventId: randomUUID(),
  subject: { cpr: '210376-4411' },
  activity,
  recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
  purpose: 'nemkonto-payments',
  legalBases: ['LBK_494_2023'],
  dataCategories: ['transaction-history'],
});
const consent = (activity: string) => ({ type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity, scope: 'CALL_RECORDING' });
const erasure = () => ({ type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'Art. 17 by letter' });

describe.skipIf(!available)('POST /v1/events with access tokens from a real Keycloak', () => {
  let kc: TestKeycloak;
  let keys: SealKeyPair;
  let main: ProvisionedRealm;
  let other: ProvisionedRealm;
  let short: ProvisionedRealm;
  let long: ProvisionedRealm;
  const sent: OutgoingMessage[] = [];
  // Which producer each client writes as; what that producer may send is the (development) producer registry's allow-list, as at the ingest.
  const clients = parseGatewayClients('client-a=mitid-core,client-b=nemkonto,client-noaud=nemkonto');

  const gateway = (issuer: string, extra: { rateLimit?: { max: number; windowMs: number }; clockSkewSeconds?: number } = {}) => {
    const transport = createInProcessTransport(async (m) => void sent.push(...m));
    const routingSecret = randomBytes(32).toString('base64url');
    return buildHttpIngest({
      producerFor: (producerId) => createProducer({ transport, sealPublicKey: keys.publicKey, routingSecret, sourceSystem: producerId, producerKey: developmentProducerKey('http-ingest') }),
      verifyToken: createTokenVerifier({ issuer, audience: AUDIENCE, maxLifetimeSeconds: 3600, clockSkewSeconds: extra.clockSkewSeconds ?? 5 }),
      producerOf: producerOfClient(clients),
      authorize: authorizeByRegistry(developmentProducerRegistry(), 'http-ingest'),
      ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
    });
  };
  const tokenOf = async (realm: ProvisionedRealm, clientId: string) => (await clientCredentialsToken(realm.tokenEndpoint, clientId, realm.secrets[clientId]!)).access_token;
  const post = (app: ReturnType<typeof gateway>, token: string | undefined, payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/events', headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> });
  const sourceSystems = () => sent.map((m) => (codec.decode(m.value).event as { sourceSystem: string }).sourceSystem);

  beforeAll(async () => {
    keys = await generateSealKeyPair();
    kc = await startTestKeycloak();
    const t0 = Date.now();
    const withAudience = (clientId: string) => ({ clientId, audience: [AUDIENCE] });
    main = await provisionRealm(kc, { realm: `gw-${tag}`, clients: [withAudience('client-a'), withAudience('client-b'), withAudience('client-unmapped'), { clientId: 'client-noaud' }] });
    other = await provisionRealm(kc, { realm: `gw-other-${tag}`, clients: [withAudience('client-a')] });
    short = await provisionRealm(kc, { realm: `gw-short-${tag}`, accessTokenLifespan: 1, clients: [withAudience('client-a')] });
    long = await provisionRealm(kc, { realm: `gw-long-${tag}`, accessTokenLifespan: 30 * 86_400, clients: [withAudience('client-a')] });
    console.log(`[gateway oauth] Keycloak ${kc.external ? 'from KEYCLOAK_URL' : 'started'} in ${kc.startedInMs} ms; 4 realms provisioned in ${Date.now() - t0} ms`);
  });
  afterAll(async () => kc?.stop());

  it('a token of client A records the event (202), as producer mitid-core whatever the client claims to be', async () => {
    sent.length = 0;
    const app = gateway(main.issuer);
    const res = await post(app, await tokenOf(main, 'client-a'), { events: [disclosure(), consent('mitid-identity-verification')] });
    expect(res.statusCode).toBe(202);
    expect(sent.map((m) => codec.decode(m.value).eventType)).toEqual(['DisclosureRecorded', 'ConsentGiven']);
    expect(sourceSystems()).toEqual(['mitid-core', 'mitid-core']);
    // A body naming a sourceSystem of its own is refused, not believed.
    expect((await post(app, await tokenOf(main, 'client-a'), { ...disclosure(), sourceSystem: 'sporbar-internal' })).statusCode).toBe(400);
    expect(sent).toHaveLength(2);
  });

  it('no token, a malformed one, one from another realm, one without our audience, one with a changed signature: 401, nothing recorded', async () => {
    sent.length = 0;
    const app = gateway(main.issuer);
    const good = await tokenOf(main, 'client-a');
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, azp: 'client-b', client_id: 'client-b' })).toString('base64url')}.${s}`;
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['none', undefined, /Bearer access token is required/],
      ['malformed', 'eyJhbGciOi.not-a.token', /malformed/],
      ['another issuer', await tokenOf(other, 'client-a'), /iss/],
      ['no audience', await tokenOf(main, 'client-noaud'), /aud/],
      ['forged', forged, /signature/],
    ];
    for (const [name, token, why] of cases) {
      const res = await post(app, token, disclosure());
      expect({ name, status: res.statusCode, code: res.json().code }).toEqual({ name, status: 401, code: 'SPB_ERR_UNAUTHORIZED' });
      expect(res.json().message).toMatch(why);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(sent).toHaveLength(0);
  });

  it('an expired token is a 401 (realm access tokens live 1 s; waited for by the clock)', async () => {
    sent.length = 0;
    const app = gateway(short.issuer, { clockSkewSeconds: 0 });
    const token = await tokenOf(short, 'client-a');
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    while (Date.now() / 1000 < exp + 0.01) await new Promise((r) => setTimeout(r, 50));
    const res = await post(app, token, disclosure());
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/expired/);
    // A fresh token of the same realm is good: the refusal above was the expiry.
    expect((await post(app, await tokenOf(short, 'client-a'), disclosure())).statusCode).toBe(202);
  });

  it('a token that lives longer than the gateway allows (30 days, max 1 h) is a 401', async () => {
    const res = await post(gateway(long.issuer), await tokenOf(long, 'client-a'), disclosure());
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/lives longer/);
  });

  it("the producer registry's allow-list of the client's producer: an event type or an activity outside it is a 403 naming the item and field, a client no producer is configured for a 403; nothing recorded", async () => {
    sent.length = 0;
    const app = gateway(main.issuer);
    const b = await tokenOf(main, 'client-b');
    const refused = await post(app, b, { events: [disclosure('nemkonto-register'), erasure()] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'SPB_ERR_PRODUCER_NOT_ALLOWED',
      message: expect.stringContaining('events[1].type: producer nemkonto may not send ErasureRequested'),
      problems: [{ index: 1, path: 'type', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED' }],
    });
    // Client A's producer (mitid-core) records MitID activities only: a NemKonto disclosure in the middle of a batch refuses the whole batch.
    const a = await tokenOf(main, 'client-a');
    const outside = await post(app, a, { events: [disclosure(), disclosure('nemkonto-register'), consent('mitid-core')] });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().problems).toEqual([
      { index: 1, path: 'activity', code: 'SPB_ERR_PRODUCER_NOT_ALLOWED', message: 'activity: producer mitid-core may not send DisclosureRecorded for activity nemkonto-register' },
    ]);
    const unmapped = await post(app, await tokenOf(main, 'client-unmapped'), disclosure());
    expect(unmapped.statusCode).toBe(403);
    expect(sent).toHaveLength(0);
    expect((await post(app, b, disclosure('nemkonto-register'))).statusCode).toBe(202);
    expect(sourceSystems()).toEqual(['nemkonto']);
  });

  it('rate-limits each client on its own: the third request of client A in the window is a 429, client B goes on', async () => {
    const app = gateway(main.issuer, { rateLimit: { max: 2, windowMs: 60_000 } });
    const a = await tokenOf(main, 'client-a');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(app, a, disclosure())).statusCode);
    expect(statuses).toEqual([202, 202, 429]);
    const limited = await post(app, a, disclosure());
    expect(limited.json()).toMatchObject({ code: 'SPB_ERR_RATE_LIMITED' });
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await post(app, await tokenOf(main, 'client-b'), disclosure('nemkonto-register'))).statusCode).toBe(202);
  });
});
