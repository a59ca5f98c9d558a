import fs from 'node:fs';
import path from 'node:path';
import { provisionRealm, adminToken, type RealmSpec } from './admin.ts';
import type { KeycloakTarget } from './server.ts';

/**
 * The CLI's `provision`: a RealmSpec read from a JSON file, created on the target unless a realm of
 * that name exists; each client's secret written to `<secretsDir>/<clientId>.secret` (mode 0600, the
 * directory 0700). Returns the issuer either way.
 */
export async function provisionRealmFiles(target: KeycloakTarget, specFile: string, secretsDir: string): Promise<{ realm: string; issuer: string; created: boolean }> {
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as RealmSpec;
  if (typeof spec.realm !== 'string' || !Array.isArray(spec.clients)) throw new Error(`${specFile}: a realm spec needs "realm" and "clients"`);
  const issuer = `${target.url}/realms/${spec.realm}`;
  const token = await adminToken(target);
  const exists = await fetch(`${target.url}/admin/realms/${encodeURIComponent(spec.realm)}`, { headers: { authorization: `Bearer ${token}` } });
  if (exists.ok) {
    // Kept as it is; a secrets directory that lacks a client's secret gets it from the realm (a second
    // host, or files lost), so running provision again always leaves every secret on disk.
    await writeMissingSecrets(target, token, spec, secretsDir);
    return { realm: spec.realm, issuer, created: false };
  }
  if (exists.status !== 404) throw new Error(`Keycloak: looking up realm ${spec.realm}: HTTP ${exists.status}`);
  const realm = await provisionRealm(target, { ...spec, replace: false });
  fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  for (const [clientId, secret] of Object.entries(realm.secrets)) {
    fs.writeFileSync(path.join(secretsDir, `${clientId}.secret`), `${secret}\n`, { mode: 0o600 });
  }
  return { realm: spec.realm, issuer: realm.issuer, created: true };
}

async function writeMissingSecrets(target: KeycloakTarget, token: string, spec: RealmSpec, secretsDir: string): Promise<void> {
  fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const headers = { authorization: `Bearer ${token}` };
  const base = `${target.url}/admin/realms/${encodeURIComponent(spec.realm)}/clients`;
  for (const client of spec.clients) {
    const file = path.join(secretsDir, `${client.clientId}.secret`);
    if (fs.existsSync(file)) continue;
    const found = await fetch(`${base}?clientId=${encodeURIComponent(client.clientId)}`, { headers });
    const [rep] = found.ok ? ((await found.json()) as Array<{ id: string }>) : [];
    if (!rep) throw new Error(`Keycloak: realm ${spec.realm} exists but has no client ${client.clientId}`);
    const secret = await fetch(`${base}/${rep.id}/client-secret`, { headers });
    if (!secret.ok) throw new Error(`Keycloak: reading the secret of ${client.clientId}: HTTP ${secret.status}`);
    fs.writeFileSync(file, `${((await secret.json()) as { value: string }).value}\n`, { mode: 0o600 });
  }
}
