/**
 * Realms and clients through Keycloak's admin REST API: a token for the bootstrap admin from the
 * master realm (`admin-cli`, password grant), then `POST /admin/realms` and
 * `POST /admin/realms/{realm}/clients` with RealmRepresentation / ClientRepresentation bodies.
 */
import { randomBytes } from 'node:crypto';
import type { KeycloakTarget } from './server.ts';

export interface ClientSpec {
  readonly clientId: string;
  /** The client secret; default: 32 random bytes, base64url. */
  readonly secret?: string;
  /** Values added to the access token's `aud` by an audience mapper (oidc-audience-mapper). */
  readonly audience?: readonly string[];
}

export interface RealmSpec {
  readonly realm: string;
  readonly clients: readonly ClientSpec[];
  /** Access token lifetime in seconds (the realm's accessTokenLifespan). Keycloak's default is 300. */
  readonly accessTokenLifespan?: number;
  /** Delete a realm of that name first (otherwise an existing realm is an error). */
  readonly replace?: boolean;
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
  return {
    clientId: spec.clientId,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    protocolMappers: (spec.audience ?? []).map((aud, i) => ({
      name: `audience-${i}`,
      protocol: 'openid-connect',
      protocolMapper: 'oidc-audience-mapper',
      config: { 'included.custom.audience': aud, 'access.token.claim': 'true', 'id.token.claim': 'false', 'introspection.token.claim': 'true' },
    })),
  };
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
