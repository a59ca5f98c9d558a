/**
 * A Keycloak realm for the access API's sign-in tests: Sporbar's realm roles, the admin-only `cpr`
 * user attribute, a citizen (a fictional CPR number), staff with one role each, a user with two
 * Sporbar roles (ambiguous), the browser client (code flow, PKCE S256) and a test client with the
 * password grant (tests only), and one without the access API's audience.
 */
import { randomBytes } from 'node:crypto';
import { passwordToken, provisionRealm, type ProvisionedRealm } from '@sporbar/keycloak-infra';
import type { TestKeycloak } from '@sporbar/keycloak-infra/vitest';

/** Fictional: 1 January 2000, serial 1234 (DDMMYY-SSSS, the shape the pseudonymiser accepts). */
export const CITIZEN_CPR = '010100-1234';
export const BROWSER_CLIENT = 'sporbar-access-api-web';
export const TEST_CLIENT = 'sporbar-tests';
export const NO_AUDIENCE_CLIENT = 'no-audience';
export const PASSWORD = 'correct-horse-battery';
export const USERS = { citizen: 'sporbar-citizen', caseworker: 'sporbar-caseworker', dpo: 'sporbar-dpo', auditor: 'sporbar-auditor' } as const;

export interface CitizensRealm extends ProvisionedRealm {
  /** A password-grant access token of a user (by the test client unless another is named). */
  token(username: string, client?: string): Promise<string>;
  /** The browser client's secret. */
  readonly browserSecret: string;
}

export async function provisionCitizensRealm(kc: TestKeycloak, options: { realm: string; publicUrl?: string; accessTokenLifespan?: number }): Promise<CitizensRealm> {
  const browserSecret = randomBytes(32).toString('base64url');
  const publicUrl = options.publicUrl ?? 'http://127.0.0.1:9';
  const cpr = { attribute: 'cpr', claim: 'cpr' };
  const user = (username: string, roles: string[], attributes?: Record<string, string[]>) => ({
    username,
    password: PASSWORD,
    firstName: 'Test',
    lastName: username,
    email: `${username}@example.test`,
    realmRoles: roles,
    ...(attributes ? { attributes } : {}),
  });
  const realm = await provisionRealm(kc, {
    realm: options.realm,
    replace: true,
    ...(options.accessTokenLifespan === undefined ? {} : { accessTokenLifespan: options.accessTokenLifespan }),
    roles: [...Object.values(USERS), 'unrelated-role'],
    adminOnlyAttributes: [{ name: 'cpr', displayName: 'CPR' }],
    users: [
      user('citizen', [USERS.citizen], { cpr: [CITIZEN_CPR] }),
      user('caseworker', [USERS.caseworker]),
      user('dpo', [USERS.dpo]),
      user('auditor', [USERS.auditor]),
      user('both', [USERS.citizen, USERS.dpo], { cpr: [CITIZEN_CPR] }),
      user('nobody', ['unrelated-role']),
    ],
    clients: [
      {
        clientId: BROWSER_CLIENT,
        secret: browserSecret,
        audience: ['sporbar-access-api'],
        attributeClaims: [cpr],
        browser: { redirectUris: [`${publicUrl}/auth/callback`], postLogoutRedirectUris: [`${publicUrl}/`], webOrigins: [publicUrl] },
      },
      { clientId: TEST_CLIENT, audience: ['sporbar-access-api'], attributeClaims: [cpr], directAccessGrants: true },
      { clientId: NO_AUDIENCE_CLIENT, attributeClaims: [cpr], directAccessGrants: true },
    ],
  });
  return {
    ...realm,
    browserSecret,
    token: async (username, client = TEST_CLIENT) => (await passwordToken(realm.tokenEndpoint, client, realm.secrets[client]!, username, PASSWORD)).access_token,
  };
}
