import { readFileSync } from 'node:fs';
import { SporbarError } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A secret from the environment variable NAME, or from the file NAME_FILE (mounted secrets). Every
 * Sporbar service reads its keys this way and refuses to start without them (SPB_ERR_CONFIG).
 */
export function readSecret(env: Env, name: string): string {
  const file = env[`${name}_FILE`];
  const value = file ? readFileSync(file, 'utf8').trim() : env[name]?.trim();
  if (!value) throw new SporbarError('SPB_ERR_CONFIG', `${name} (or ${name}_FILE) must be set`);
  return value;
}
