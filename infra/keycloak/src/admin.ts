/**
 * Realms and clients through Keycloak's admin REST API: a token for the bootstrap admin from the
 * master realm (`admin-cli`, password grant), then `POST /admin/realms` and
 * `POST /admin/realms/{realm}/clients` with RealmRepresentation / ClientRepresentation bodies; realm
 * roles (`/roles`), the declarative user profile (`GET`/`PUT /users/profile`), users (`/users`,
 * `/users/{id}/role-mappings/realm`) and key providers (`/components`, for key rotations).
 */
import { randomBytes } from 'node:crypto';
import type { KeycloakTarget } from './server.ts';

export interface ClientSpec {
  readonly clientId: string;
  /** The client secret; default: 32 random bytes, base64url. */
  readonly secret?: string;
  /** Values added to the access token's `aud` by an audience mapper (oidc-audience-mapper). */
  readonly audience?: readonly string[];
  /**
   * A browser client (authorization code flow, PKCE S256 required) instead of a client-credentials
   * one: where it may redirect to after sign-in and after logout, and the web origins.
   */
  readonly browser?: { readonly redirectUris: readonly string[]; readonly postLogoutRedirectUris?: readonly string[]; readonly webOrigins?: readonly string[] };
  /** The password grant (direct access grants): for tests' staff and citizen users only. */
  readonly directAccessGrants?: boolean;
  /** User attributes copied into tokens (oidc-usermodel-attribute-mapper): `cpr` → claim `cpr` in the access token. */
  readonly attributeClaims?: ReadonlyArray<{ readonly attribute: string; readonly claim: string; readonly idToken?: boolean }>;
}

export interface UserSpec {
  readonly username: string;
  readonly password: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  /** Attributes (each must be declared in the user profile, see RealmSpec.adminOnlyAttributes). */
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  readonly realmRoles?: readonly string[];
}

export interface RealmSpec {
  readonly realm: string;
  readonly clients: readonly ClientSpec[];
  /** Access token lifetime in seconds (the realm's accessTokenLifespan). Keycloak's default is 300. */
  readonly accessTokenLifespan?: number;
  /** Delete a realm of that name first (otherwise an existing realm is an error). */
  readonly replace?: boolean;
  /** Realm roles to create (they appear in `realm_access.roles` of the users' tokens). */
  readonly roles?: readonly string[];
  /**
   * Custom user attributes declared in the realm's user profile (Keycloak 26: an undeclared
   * attribute is "unmanaged" and dropped), viewable and editable by admins only: a user cannot see
   * or change their own CPR number in the account console.
   */
  readonly adminOnlyAttributes?: ReadonlyArray<{ readonly name: string; readonly displayName?: string }>;
  readonly users?: readonly UserSpec[];
}

export interface ProvisionedRealm {
  readonly realm: string;
  /** The `iss` of its tokens: <url>/realms/<realm>. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** clientId → client secret. */
  readonly secrets: Readonly<Record<string, string>>;
}

async function failed(res: Response, what: string): Promise<Error> {
  const body = await res.text().catch(() => '');
  return new Error(`Keycloak ${what}: HTTP ${res.status} ${body.slice(0, 500)}`);
}

/** An access token of the master realm's admin (admin-cli, password grant). */
export async function adminToken(target: KeycloakTarget): Promise<string> {
  const res = await fetch(`${target.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: target.admin.username, password: target.admin.password }),
  });
  if (!res.ok) throw await failed(res, 'admin login');
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The ClientRepresentation of a confidential client that may only use the client-credentials grant. */
export function clientRepresentation(spec: ClientSpec, secret: string): Record<string, unknown> {
  const browser = spec.browser;
  return {
    clientId: spec.clientId,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret,
    serviceAccountsEnabled: browser === undefined,
    standardFlowEnabled: browser !== undefined,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: spec.directAccessGrants === true,
    ...(browser
      ? {
          redirectUris: [...browser.redirectUris],
          webOrigins: [...(browser.webOrigins ?? [])],
          attributes: {
            'pkce.code.challenge.method': 'S256',
            'post.logout.redirect.uris': (browser.postLogoutRedirectUris ?? []).join('##'),
          },
        }
      : {}),
    protocolMappers: [
      ...(spec.audience ?? []).map((aud, i) => ({
        name: `audience-${i}`,
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        config: { 'included.custom.audience': aud, 'access.token.claim': 'true', 'id.token.claim': 'false', 'introspection.token.claim': 'true' },
      })),
      ...(spec.attributeClaims ?? []).map((a) => ({
        name: `attribute-${a.attribute}`,
        protocol: 'openid-connect',
        protocolMapper: 'oidc-usermodel-attribute-mapper',
        config: {
          'user.attribute': a.attribute,
          'claim.name': a.claim,
          'jsonType.label': 'String',
          'access.token.claim': 'true',
          'id.token.claim': a.idToken === true ? 'true' : 'false',
          'userinfo.token.claim': 'false',
          'introspection.token.claim': 'true',
        },
      })),
    ],
  };
}

/** The realm's user profile with `attributes` declared, admin-only (view and edit). Pure. */
export function withAdminOnlyAttributes(profile: { attributes?: Array<Record<string, unknown>> } & Record<string, unknown>, attributes: ReadonlyArray<{ name: string; displayName?: string }>): Record<string, unknown> {
  const existing = (profile.attributes ?? []).filter((a) => !attributes.some((n) => n.name === a['name']));
  return {
    ...profile,
    attributes: [
      ...existing,
      ...attributes.map((a) => ({ name: a.name, displayName: a.displayName ?? a.name, permissions: { view: ['admin'], edit: ['admin'] }, multivalued: false })),
    ],
  };
}

/** The JSON of an admin API GET, or an error. */
async function getJson<T>(url: string, headers: Record<string, string>, what: string): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw await failed(res, what);
  return (await res.json()) as T;
}

/** Creates a realm and its clients; returns the issuer and each client's secret. */
export async function provisionRealm(target: KeycloakTarget, spec: RealmSpec): Promise<ProvisionedRealm> {
  if (!/^[A-Za-z0-9._-]+$/.test(spec.realm)) throw new Error(`realm "${spec.realm}": use letters, digits, '.', '_' and '-' only`);
  const token = await adminToken(target);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const realmUrl = `${target.url}/admin/realms/${encodeURIComponent(spec.realm)}`;
  if (spec.replace) {
    const res = await fetch(realmUrl, { method: 'DELETE', headers });
    if (!res.ok && res.status !== 404) throw await failed(res, `deleting realm ${spec.realm}`);
  }
  const realm = { realm: spec.realm, enabled: true, sslRequired: 'none', ...(spec.accessTokenLifespan !== undefined ? { accessTokenLifespan: spec.accessTokenLifespan } : {}) };
  const created = await fetch(`${target.url}/admin/realms`, { method: 'POST', headers, body: JSON.stringify(realm) });
  if (!created.ok) throw await failed(created, `creating realm ${spec.realm}`);
  for (const name of spec.roles ?? []) {
    const res = await fetch(`${realmUrl}/roles`, { method: 'POST', headers, body: JSON.stringify({ name }) });
    if (!res.ok) throw await failed(res, `creating realm role ${name}`);
  }
  if (spec.adminOnlyAttributes?.length) {
    const profile = await getJson<Record<string, unknown>>(`${realmUrl}/users/profile`, headers, 'reading the user profile');
    const res = await fetch(`${realmUrl}/users/profile`, { method: 'PUT', headers, body: JSON.stringify(withAdminOnlyAttributes(profile, spec.adminOnlyAttributes)) });
    if (!res.ok) throw await failed(res, 'declaring user profile attributes');
  }
  for (const user of spec.users ?? []) await createUser(realmUrl, headers, user);
  const secrets: Record<string, string> = {};
  for (const client of spec.clients) {
    const secret = client.secret ?? randomBytes(32).toString('base64url');
    const res = await fetch(`${realmUrl}/clients`, { method: 'POST', headers, body: JSON.stringify(clientRepresentation(client, secret)) });
    if (!res.ok) throw await failed(res, `creating client ${client.clientId} in realm ${spec.realm}`);
    secrets[client.clientId] = secret;
  }
  const issuer = `${target.url}/realms/${spec.realm}`;
  return { realm: spec.realm, issuer, tokenEndpoint: `${issuer}/protocol/openid-connect/token`, secrets };
}

async function createUser(realmUrl: string, headers: Record<string, string>, user: UserSpec): Promise<void> {
  const body = {
    username: user.username,
    enabled: true,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    emailVerified: true,
    attributes: user.attributes ?? {},
    credentials: [{ type: 'password', value: user.password, temporary: false }],
  };
  const res = await fetch(`${realmUrl}/users`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw await failed(res, `creating user ${user.username}`);
  const id = res.headers.get('location')?.split('/').at(-1);
  if (!id) throw new Error(`Keycloak creating user ${user.username}: no Location header`);
  if (user.realmRoles?.length) {
    const roles = await Promise.all(user.realmRoles.map((r) => getJson<{ id: string; name: string }>(`${realmUrl}/roles/${encodeURIComponent(r)}`, headers, `reading realm role ${r}`)));
    const mapped = await fetch(`${realmUrl}/users/${id}/role-mappings/realm`, { method: 'POST', headers, body: JSON.stringify(roles.map((r) => ({ id: r.id, name: r.name }))) });
    if (!mapped.ok) throw await failed(mapped, `giving ${user.username} realm roles`);
  }
}

export interface KeyProvider {
  readonly id: string;
  readonly name: string;
  readonly providerId: string;
  readonly config: Record<string, string[]>;
}

/** The realm's key providers (components of type org.keycloak.keys.KeyProvider). */
export async function keyProviders(target: KeycloakTarget, realm: string): Promise<KeyProvider[]> {
  const headers = { authorization: `Bearer ${await adminToken(target)}` };
  return getJson<KeyProvider[]>(`${target.url}/admin/realms/${encodeURIComponent(realm)}/components?type=org.keycloak.keys.KeyProvider`, headers, 'listing key providers');
}

/**
 * A signing-key rotation: a new generated RSA key provider (RS256) with a higher priority than the
 * realm's, so new tokens are signed with it; returns its component id.
 */
export async function addRsaKeyProvider(target: KeycloakTarget, realm: string, options: { name: string; priority: number }): Promise<string> {
  const headers = { authorization: `Bearer ${await adminToken(target)}`, 'content-type': 'application/json' };
  const realmUrl = `${target.url}/admin/realms/${encodeURIComponent(realm)}`;
  const { id: parentId } = await getJson<{ id: string }>(realmUrl, headers, `reading realm ${realm}`);
  const body = {
    name: options.name,
    providerId: 'rsa-generated',
    providerType: 'org.keycloak.keys.KeyProvider',
    parentId,
    config: { priority: [String(options.priority)], enabled: ['true'], active: ['true'], algorithm: ['RS256'], keySize: ['2048'] },
  };
  const res = await fetch(`${realmUrl}/components`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw await failed(res, `adding key provider ${options.name}`);
  const id = res.headers.get('location')?.split('/').at(-1);
  if (!id) throw new Error('Keycloak adding a key provider: no Location header');
  return id;
}

/** Removes a key provider: its key leaves the JWKS, so tokens it signed no longer verify. */
export async function deleteKeyProvider(target: KeycloakTarget, realm: string, id: string): Promise<void> {
  const headers = { authorization: `Bearer ${await adminToken(target)}` };
  const res = await fetch(`${target.url}/admin/realms/${encodeURIComponent(realm)}/components/${encodeURIComponent(id)}`, { method: 'DELETE', headers });
  if (!res.ok) throw await failed(res, `deleting key provider ${id}`);
}

/** An access token (and ID token) for a user by the password grant: tests only (the client needs directAccessGrants). */
export async function passwordToken(tokenEndpoint: string, clientId: string, secret: string, username: string, password: string): Promise<TokenResponse & { id_token?: string }> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, client_secret: secret, username, password, scope: 'openid' }),
  });
  if (!res.ok) throw await failed(res, `password token for ${username}`);
  return (await res.json()) as TokenResponse & { id_token?: string };
}

export interface TokenResponse {
  readonly access_token: string;
  readonly expires_in: number;
  readonly token_type: string;
}

/** An access token for a client by the client-credentials grant (client_secret_post). */
export async function clientCredentialsToken(tokenEndpoint: string, clientId: string, secret: string): Promise<TokenResponse> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  if (!res.ok) throw await failed(res, `client-credentials token for ${clientId}`);
  return (await res.json()) as TokenResponse;
}

/** True once the master realm's discovery document answers (a running Keycloak). */
export async function keycloakAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/realms/master/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}
