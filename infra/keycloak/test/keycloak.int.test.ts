import { createPublicKey, createVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, provisionRealm, type ProvisionedRealm } from '../src/index.ts';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '../src/vitest.ts';

const available = keycloakAvailable();

const part = (jwt: string, i: number): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe.skipIf(!available)('a real Keycloak, realms and clients through its admin REST API', () => {
  let kc: TestKeycloak;
  let realm: ProvisionedRealm;
  beforeAll(async () => {
    kc = await startTestKeycloak();
    realm = await provisionRealm(kc, {
      realm: `infra-${Date.now().toString(36)}`,
      clients: [{ clientId: 'client-a', audience: ['sporbar-producer-gateway'] }, { clientId: 'client-b', secret: 'b-secret-of-at-least-some-length' }],
    });
  });
  afterAll(async () => kc?.stop());

  it('returns each client secret (the given one, or a random one) and the realm issuer', () => {
    expect(realm.issuer).toBe(`${kc.url}/realms/${realm.realm}`);
    expect(realm.secrets['client-b']).toBe('b-secret-of-at-least-some-length');
    expect(realm.secrets['client-a']).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives each client a client-credentials token signed by a key of the realm JWKS, with the audience mapper applied', async () => {
    const discovery = (await (await fetch(`${realm.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(realm.issuer);
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Array<{ kid: string; kty: string; use?: string; alg?: string; n?: string; e?: string }> };
    for (const clientId of ['client-a', 'client-b']) {
      const token = await clientCredentialsToken(realm.tokenEndpoint, clientId, realm.secrets[clientId]!);
      expect(token.token_type.toLowerCase()).toBe('bearer');
      const header = part(token.access_token, 0);
      const claims = part(token.access_token, 1);
      expect(header['alg']).toBe('RS256');
      expect(claims).toMatchObject({ iss: realm.issuer, azp: clientId });
      const aud = ([] as unknown[]).concat(claims['aud'] ?? []);
      expect(aud.includes('sporbar-producer-gateway')).toBe(clientId === 'client-a');
      const jwk = jwks.keys.find((k) => k.kid === header['kid']);
      expect(jwk).toMatchObject({ kty: 'RSA' });
      const [h, p, s] = token.access_token.split('.') as [string, string, string];
      const key = createPublicKey({ key: { kty: 'RSA', n: jwk!.n!, e: jwk!.e! }, format: 'jwk' });
      const verifier = createVerify('RSA-SHA256').update(`${h}.${p}`);
      expect(verifier.verify(key, Buffer.from(s, 'base64url'))).toBe(true);
      // A flipped signature byte does not verify: the check above can fail.
      const bad = Buffer.from(s, 'base64url');
      bad[0] = bad[0]! ^ 1;
      expect(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, bad)).toBe(false);
    }
  });

  it('refuses a wrong client secret', async () => {
    await expect(clientCredentialsToken(realm.tokenEndpoint, 'client-a', 'not-the-secret')).rejects.toThrow(/HTTP 401/);
  });
});
