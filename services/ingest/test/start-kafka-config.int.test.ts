import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE } from '@sporbar/key-store';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const key = () => randomBytes(32).toString('base64url');

/** `sporbar-ingest run` and `redrive` as started in production, given SCRAM credentials but no TLS. */
describe('the ingest refuses to send Kafka credentials in clear', () => {
  it.each(['run', 'redrive'])('%s: one SPB_ERR_CONFIG naming KAFKA_SASL_USERNAME, the password never shown, exit 1', (command) => {
    const env = {
      PATH: process.env['PATH'],
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_SASL_USERNAME: 'sporbar-ingest',
      KAFKA_SASL_PASSWORD: 'never-printed-0123',
      SPORBAR_SEAL_PRIVATE_KEY: key(),
      SPORBAR_PSEUDONYM_KEY: key(),
      SPORBAR_MASTER_KEY: key(),
      // Everything else valid (checks across variables run once each one is): the development registry.
      SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE,
      SPORBAR_ENV: 'development',
    };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', command], { cwd: PACKAGE_DIR, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^SPB_ERR_CONFIG: sporbar-ingest( redrive)? cannot start: 1 configuration problem/);
    expect(r.stderr).toMatch(/\n {2}KAFKA_SASL_USERNAME +SCRAM credentials without TLS are refused/);
    expect(r.stderr).not.toContain('never-printed-0123');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
