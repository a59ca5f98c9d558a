import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMasterKeySecret, generateSealKeyPair, type SealKeyPair } from '@sporbar/key-store';

/** The keys the embedded default needs. Production takes them from configuration instead. */
export interface DevKeys {
  readonly seal: SealKeyPair;
  readonly pseudonymKey: { readonly id: string; readonly secret: string };
  readonly routingSecret: string;
  /** Wraps the per-subject data keys. */
  readonly masterKey: { readonly id: string; readonly secret: string };
  /** The subject map's key (base64url, 32 bytes). */
  readonly subjectMapKey: string;
}

/**
 * Loads ./data/dev-keys.json, creating it on the first start (mode 0600). Kept with the data so
 * pseudonyms stay stable across restarts; never meant for production.
 */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const file = join(dataDir, 'dev-keys.json');
  const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevKeys>) : {};
  if (earlier.seal && earlier.pseudonymKey && earlier.routingSecret && earlier.masterKey && earlier.subjectMapKey) return earlier as DevKeys;
  mkdirSync(dataDir, { recursive: true });
  // Keys a data directory already has are kept (pseudonyms must stay stable); missing ones are added.
  const keys: DevKeys = {
    seal: earlier.seal ?? (await generateSealKeyPair()),
    pseudonymKey: earlier.pseudonymKey ?? { id: 'dev1', secret: randomBytes(32).toString('base64url') },
    routingSecret: earlier.routingSecret ?? randomBytes(32).toString('base64url'),
    masterKey: earlier.masterKey ?? { id: 'dev1', secret: generateMasterKeySecret() },
    subjectMapKey: earlier.subjectMapKey ?? randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
