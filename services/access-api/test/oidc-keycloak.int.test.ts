import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { addRsaKeyProvider, deleteKeyProvider } from '@sporbar/keycloak-infra';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '@sporbar/keycloak-infra/vitest';
import { DEFAULT_OIDC_ROLE_MAP, parseRoleMap } from '../src/oidc-claims.ts';
import type { AppOptions } from '../src/index.ts';
import { pseudonymiser, testApp } from './helpers.ts';
import { CITIZEN_CPR, NO_AUDIENCE_CLIENT, provisionCitizensRealm, type CitizensRealm } from './support/keycloak-realm.ts';

/**
 * Bearer tokens from a real Keycloak (26.5.6) accepted by the access API through discovery and the
 * realm's JWKS: each Sporbar role from realm_access.roles, the citizen's pseudonym from the cpr
 * claim; refused 401: a wrong audience, an expired token, a tampered signature, another realm's
 * token, two Sporbar roles at once. Key rotation through the admin API: a new key provider signs
 * new tokens (the JWKS fetched again for the unknown kid); once it is deleted, its tokens are refused.
 */
const available = keycloakAvailable();
const mapping = { cprClaim: 'cpr', rolesClaim: 'realm_access.roles', roleMap: parseRoleMap(DEFAULT_OIDC_ROLE_MAP) };

async function appFor(issuer: string, extra: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const { app } = await testApp(async () => undefined, {
    oidc: { issuer, audience: 'sporbar-access-api', ...mapping, jwksCooldownMs: 0, jwksCacheMaxAgeMs: 1_000 },
    tokenCacheSize: 0,
    ...extra,
  });
  // Who the API takes the caller for (tests only).
  app.get('/whoami', { preHandler: (request, reply) => app.authenticate(request, reply) }, async (request) => request.principal);
  return app;
}

describe.skipIf(!available)('the access API and a real Keycloak: bearer tokens', () => {
  let kc: TestKeycloak;
  let realm: CitizensRealm;
  let short: CitizensRealm;
  let app: FastifyInstance;
  let oidcOnly: FastifyInstance;
  const id = Date.now().toString(36);

  beforeAll(async () => {
    kc = await startTestKeycloak();
    realm = await provisionCitizensRealm(kc, { realm: `sporbar-${id}` });
    short = await provisionCitizensRealm(kc, { realm: `sporbar-short-${id}`, accessTokenLifespan: 1 });
    app = await appFor(realm.issuer); // with the static development key too (testApp's default)
    oidcOnly = await appFor(realm.issuer, { jwtPublicKey: undefined });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await oidcOnly?.close();
    await kc?.stop();
  });

  const whoami = (a: FastifyInstance, token: string) => a.inject({ method: 'GET', url: '/whoami', headers: { authorization: `Bearer ${token}` } });

  it("accepts each user's token with its one Sporbar role; the citizen is their pseudonym, never the CPR number", async () => {
    for (const a of [app, oidcOnly]) {
      const citizen = await whoami(a, await realm.token('citizen'));
      expect(citizen.statusCode, citizen.body).toBe(200);
      expect(citizen.json()).toEqual({ id: pseudonymiser.pseudonym(CITIZEN_CPR), role: 'citizen', subject: pseudonymiser.pseudonym(CITIZEN_CPR), subjects: pseudonymiser.all(CITIZEN_CPR) });
      expect(citizen.body).not.toContain(CITIZEN_CPR.replace('-', ''));
      for (const role of ['caseworker', 'dpo', 'auditor'] as const) {
        const r = await whoami(a, await realm.token(role));
        expect(r.statusCode, r.body).toBe(200);
        expect(r.json()).toMatchObject({ role, subject: null, subjects: [] });
        expect(r.json().id).toMatch(/^[0-9a-f-]{36}$/); // Keycloak's user id (sub)
      }
    }
    const report = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${await realm.token('citizen')}` } });
    expect(report.statusCode).toBe(200);
    const refused = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${await realm.token('dpo')}` } });
    expect(refused.statusCode).toBe(403);
  });

  it('refuses 401: two Sporbar roles, no Sporbar role, a wrong audience, a tampered signature, another realm', async () => {
    const expect401 = async (a: FastifyInstance, token: string, message: RegExp) => {
      const r = await whoami(a, token);
      expect(r.statusCode, r.body).toBe(401);
      expect(r.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
      expect(r.json().message).toMatch(message);
      expect(r.body).not.toContain(CITIZEN_CPR.replace('-', ''));
    };
    for (const a of [app, oidcOnly]) {
      await expect401(a, await realm.token('both'), /more than one Sporbar role \(citizen, dpo\)/);
      await expect401(a, await realm.token('nobody'), /names no Sporbar role/);
      await expect401(a, await realm.token('citizen', NO_AUDIENCE_CLIENT), /aud/);
      const [h, p, s] = (await realm.token('dpo')).split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[10] = sig[10]! ^ 0x01;
      await expect401(a, `${h}.${p}.${sig.toString('base64url')}`, /signature/);
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const elevated = Buffer.from(JSON.stringify({ ...claims, realm_access: { roles: ['sporbar-auditor'] } })).toString('base64url');
      await expect401(a, `${h}.${elevated}.${s}`, /signature/);
      await expect401(a, await short.token('citizen'), /iss|refused|signature|verify/);
    }
  });

  it('refuses an expired token (a realm whose access tokens live 1 s)', async () => {
    const shortApp = await appFor(short.issuer, { jwtPublicKey: undefined });
    try {
      const token = await short.token('caseworker');
      expect((await whoami(shortApp, token)).statusCode).toBe(200);
      // exp + the verifier's 5 s of clock skew
      await new Promise((r) => setTimeout(r, 7_000));
      const r = await whoami(shortApp, token);
      expect(r.statusCode).toBe(401);
      expect(r.json().message).toMatch(/expired/);
    } finally {
      await shortApp.close();
    }
  }, 30_000);

  it('follows a key rotation: new tokens (a new kid) are accepted; once that key is deleted, its tokens are refused', async () => {
    const before = await realm.token('auditor');
    expect((await whoami(oidcOnly, before)).statusCode).toBe(200);
    const provider = await addRsaKeyProvider(kc, realm.realm, { name: `rotated-${id}`, priority: 1000 });
    const rotated = await realm.token('auditor');
    const kid = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
    expect(kid(rotated)).not.toBe(kid(before));
    expect((await whoami(oidcOnly, rotated)).statusCode).toBe(200); // unknown kid → JWKS fetched again
    expect((await whoami(oidcOnly, before)).statusCode).toBe(200); // the old key is still in the JWKS
    const unused = await realm.token('dpo'); // signed by the rotated key, never shown to the API
    await deleteKeyProvider(kc, realm.realm, provider);
    await new Promise((r) => setTimeout(r, 1_200)); // the app's JWKS cache (1 s in this test; 10 min by default)
    const r = await whoami(oidcOnly, unused);
    expect(r.statusCode, r.body).toBe(401);
    expect(r.json().message).toMatch(/key the issuer's JWKS does not have/);
    expect((await whoami(oidcOnly, await realm.token('dpo'))).statusCode).toBe(200); // signed by the old key again
  }, 30_000);
});
