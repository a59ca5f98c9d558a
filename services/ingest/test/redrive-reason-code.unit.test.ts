import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@sporbar/common/errors';
import { checkReasonCode } from '../src/redrive.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('redrive --reason-code', () => {
  it('takes every code of the registry as it is', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(checkReasonCode(code)).toEqual({ ok: true, code });
    expect(checkReasonCode(' SPB_ERR_UNKNOWN_FINGERPRINT ')).toEqual({ ok: true, code: 'SPB_ERR_UNKNOWN_FINGERPRINT' });
  });

  it('refuses a code the registry does not have, and names the one meant when only case or prefix differ', () => {
    const nope = checkReasonCode('SPB_ERR_NO_SUCH_THING');
    expect(nope.ok).toBe(false);
    expect(!nope.ok && nope.message).toMatch(/"SPB_ERR_NO_SUCH_THING" is not an SPB_ERR_\* code of the registry.*docs\/errors\.md/);
    expect(checkReasonCode('spb_err_bad_magic')).toMatchObject({ ok: false, message: expect.stringMatching(/did you mean SPB_ERR_BAD_MAGIC\?$/) });
    expect(checkReasonCode('unknown-fingerprint')).toMatchObject({ ok: false, message: expect.stringMatching(/did you mean SPB_ERR_UNKNOWN_FINGERPRINT\?$/) });
    for (const bad of ['', 'SPB_ERR_', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) expect(checkReasonCode(bad).ok).toBe(false);
  });

  it('the command refuses it with exit code 2 before it reads its configuration or connects to a broker', () => {
    // No broker listens on port 1 and the configuration is broken: a check after either would say something else or hang.
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, '../src/main.ts'), 'redrive', '--reason-code', 'SPB_ERR_NOPE'], {
      cwd: join(here, '..'),
      env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'not-a-level' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('sporbar-ingest redrive: --reason-code "SPB_ERR_NOPE" is not an SPB_ERR_* code of the registry');
    expect(run.stdout).toBe('');
  }, 40_000);
});
