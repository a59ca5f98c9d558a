import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRsaKeyProvider, adminToken, deleteKeyProvider, keyProviders, passwordToken, provisionRealm, withAdminOnlyAttributes, type ProvisionedRealm } from '../src/index.ts';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '../src/vitest.ts';

const available = keycloakAvailable();
const part = (jwt: string, i: number): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('withAdminOnlyAttributes (pure)', () => {
  it('declares the attribute admin-only and replaces an earlier declaration of it', () => {
    const out = withAdminOnlyAttributes({ attributes: [{ name: 'username' }, { name: 'cpr', permissions: { edit: ['user'] } }], groups: [] }, [{ name: 'cpr', displayName: 'CPR' }]);
    expect(out['groups']).toEqual([]);
    expect(out['attributes']).toEqual([{ name: 'username' }, { name: 'cpr', displayName: 'CPR', permissions: { view: ['admin'], edit: ['admin'] }, multivalued: false }]);
  });
});

describe.skipIf(!available)('a citizens-and-staff realm: roles, a declared admin-only cpr attribute, users, a browser client, key rotation', () => {
  let kc: TestKeycloak;
  let realm: ProvisionedRealm;
  beforeAll(async () => {
    kc = await startTestKeycloak();
    realm = await provisionRealm(kc, {
      realm: `citizens-${Date.now().toString(36)}`,
      roles: ['sporbar-citizen', 'sporbar-caseworker'],
      adminOnlyAttributes: [{ name: 'cpr', displayName: 'CPR' }],
      users: [
        { username: 'citizen', password: 'citizen-pw', firstName: 'Test', lastName: 'Citizen', email: 'citizen@example.test', attributes: { cpr: ['0101001234'] }, realmRoles: ['sporbar-citizen'] },
        { username: 'caseworker', password: 'caseworker-pw', firstName: 'Test', lastName: 'Caseworker', email: 'cw@example.test', realmRoles: ['sporbar-caseworker'] },
      ],
      clients: [
        { clientId: 'browser', audience: ['sporbar-access-api'], attributeClaims: [{ attribute: 'cpr', claim: 'cpr' }], browser: { redirectUris: ['http://127.0.0.1:9/auth/callback'], postLogoutRedirectUris: ['http://127.0.0.1:9/'] } },
        { clientId: 'tests', audience: ['sporbar-access-api'], attributeClaims: [{ attribute: 'cpr', claim: 'cpr' }], directAccessGrants: true },
      ],
    });
  }, 120_000);
  afterAll(async () => kc?.stop());

  const admin = async (path: string): Promise<unknown> => {
    const res = await fetch(`${kc.url}/admin/realms/${realm.realm}${path}`, { headers: { authorization: `Bearer ${await adminToken(kc)}` } });
    expect(res.status).toBe(200);
    return res.json();
  };

  it('declares cpr in the user profile, viewable and editable by admins only, and stores it on the user', async () => {
    const profile = (await admin('/users/profile')) as { attributes: Array<{ name: string; permissions?: { view?: string[]; edit?: string[] } }> };
    expect(profile.attributes.find((a) => a.name === 'cpr')?.permissions).toEqual({ view: ['admin'], edit: ['admin'] });
    const [user] = (await admin('/users?username=citizen&exact=true')) as Array<{ attributes?: Record<string, string[]> }>;
    expect(user?.attributes?.['cpr']).toEqual(['0101001234']);
  });

  it('a user cannot see or change their own cpr through the account API (read-only for them: 400), and it stays as the admin set it', async () => {
    const token = (await passwordToken(realm.tokenEndpoint, 'tests', realm.secrets['tests']!, 'citizen', 'citizen-pw')).access_token;
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' };
    const mine = (await (await fetch(`${realm.issuer}/account`, { headers })).json()) as Record<string, unknown>;
    expect(JSON.stringify(mine)).not.toContain('0101001234');
    const changed = await fetch(`${realm.issuer}/account`, { method: 'POST', headers, body: JSON.stringify({ ...mine, attributes: { cpr: ['3112999999'] } }) });
    expect(changed.status).toBe(400);
    expect(await changed.text()).toContain('error-user-attribute-read-only');
    const [user] = (await admin('/users?username=citizen&exact=true')) as Array<{ attributes?: Record<string, string[]> }>;
    expect(user?.attributes?.['cpr']).toEqual(['0101001234']);
  });

  it('makes the browser client a confidential code-flow client that requires PKCE S256', async () => {
    const [client] = (await admin('/clients?clientId=browser')) as Array<Record<string, unknown>>;
    expect(client).toMatchObject({ publicClient: false, standardFlowEnabled: true, directAccessGrantsEnabled: false, serviceAccountsEnabled: false, redirectUris: ['http://127.0.0.1:9/auth/callback'] });
    expect(client!['attributes']).toMatchObject({ 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': 'http://127.0.0.1:9/' });
  });

  it("puts the citizen's cpr, the realm roles and the audience into the access token; staff get no cpr", async () => {
    const citizen = part((await passwordToken(realm.tokenEndpoint, 'tests', realm.secrets['tests']!, 'citizen', 'citizen-pw')).access_token, 1);
    expect(citizen['cpr']).toBe('0101001234');
    expect((citizen['realm_access'] as { roles: string[] }).roles).toContain('sporbar-citizen');
    expect(([] as unknown[]).concat(citizen['aud'])).toContain('sporbar-access-api');
    const staff = part((await passwordToken(realm.tokenEndpoint, 'tests', realm.secrets['tests']!, 'caseworker', 'caseworker-pw')).access_token, 1);
    expect(staff['cpr']).toBeUndefined();
    expect((staff['realm_access'] as { roles: string[] }).roles).toContain('sporbar-caseworker');
  });

  it('rotates the signing key: a new provider with a higher priority signs new tokens; deleting it takes its key out of the JWKS', async () => {
    const jwks = async (): Promise<string[]> => ((await (await fetch(`${realm.issuer}/protocol/openid-connect/certs`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = part((await passwordToken(realm.tokenEndpoint, 'tests', realm.secrets['tests']!, 'caseworker', 'caseworker-pw')).access_token, 0)['kid'];
    const id = await addRsaKeyProvider(kc, realm.realm, { name: 'rotated', priority: 1000 });
    expect((await keyProviders(kc, realm.realm)).some((p) => p.id === id)).toBe(true);
    const after = part((await passwordToken(realm.tokenEndpoint, 'tests', realm.secrets['tests']!, 'caseworker', 'caseworker-pw')).access_token, 0)['kid'];
    expect(after).not.toBe(before);
    expect(await jwks()).toEqual(expect.arrayContaining([before, after]));
    await deleteKeyProvider(kc, realm.realm, id);
    expect(await jwks()).not.toContain(after);
  });
});
