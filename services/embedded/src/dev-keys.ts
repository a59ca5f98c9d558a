import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSealKeyPair, type SealKeyPair } from '@sporbar/schemas';

/** The keys the embedded default needs. Production takes them from configuration instead. */
export interface DevKeys {
  readonly seal: SealKeyPair;
  readonly pseudonymKey: { readonly id: string; readonly secret: string };
  readonly routingSecret: string;
}

/**
 * Loads ./data/dev-keys.json, creating it on the first start (mode 0600). Kept with the data so
 * pseudonyms stay stable across restarts; never meant for production.
 */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const file = join(dataDir, 'dev-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  mkdirSync(dataDir, { recursive: true });
  const keys: DevKeys = {
    seal: await generateSealKeyPair(),
    pseudonymKey: { id: 'dev1', secret: randomBytes(32).toString('base64url') },
    routingSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
