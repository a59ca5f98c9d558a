import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { readWitnessConfig } from '../src/config.ts';
import { createTestLog } from './support/test-log.ts';

const pem = (type: 'ed25519' | 'ec' = 'ed25519'): string =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
const log = createTestLog('sporbar.test/config');
const files: Record<string, string> = { '/logs.json': JSON.stringify({ logs: [{ origin: log.origin, keys: [log.vkey] }] }) };
const readFile = (path: string): string => {
  if (path in files) return files[path]!;
  throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
};
const good = () => ({
  SPORBAR_WITNESS_NAME: 'datatilsynet.example/witness',
  SPORBAR_WITNESS_KEY: pem(),
  SPORBAR_WITNESS_LOGS: '/logs.json',
  DATABASE_URL: 'postgres://witness@127.0.0.1:5432/witness',
});

const problems = (env: Record<string, string | undefined>): string[] => {
  try {
    readWitnessConfig(env, readFile);
  } catch (err) {
    if (!isSporbarError(err, 'SPB_ERR_CONFIG')) throw err;
    return (err.details['problems'] as { variable: string; problem: string }[]).map((p) => `${p.variable}: ${p.problem}`);
  }
  return [];
};

describe('witness configuration', () => {
  it('reads a good configuration: name, key, the logs with their verifiers, defaults', () => {
    const c = readWitnessConfig(good(), readFile);
    expect(c).toMatchObject({ name: 'datatilsynet.example/witness', host: '127.0.0.1', port: 3300, schema: 'witness' });
    expect([...c.logs.keys()]).toEqual([log.origin]);
    expect(c.privateKey.asymmetricKeyType).toBe('ed25519');
  });

  it('lists every missing variable at once', () => {
    const list = problems({});
    expect(list.map((p) => p.split(':')[0])).toEqual(['SPORBAR_WITNESS_NAME', 'SPORBAR_WITNESS_KEY', 'SPORBAR_WITNESS_LOGS', 'DATABASE_URL']);
  });

  it('lists every bad value at once, never echoing the key', () => {
    const key = pem('ec');
    const list = problems({ ...good(), SPORBAR_WITNESS_NAME: 'a name+with spaces', SPORBAR_WITNESS_KEY: key, SPORBAR_WITNESS_LOGS: '/missing.json', SPORBAR_WITNESS_SCHEMA: 'Witness-1', PORT: '70000' });
    expect(list.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'SPORBAR_WITNESS_KEY', 'SPORBAR_WITNESS_NAME', 'SPORBAR_WITNESS_SCHEMA'].sort());
    expect(list.join('\n')).not.toContain(key.split('\n')[1]!);
    // The logs file is read once every variable is valid on its own.
    expect(problems({ ...good(), SPORBAR_WITNESS_LOGS: '/missing.json' })).toEqual(["SPORBAR_WITNESS_LOGS: cannot read '/missing.json' (ENOENT)"]);
  });

  it('names every problem of the logs file', () => {
    files['/bad.json'] = JSON.stringify({
      logs: [
        { origin: log.origin, keys: [log.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')] },
        { origin: log.origin, keys: [log.vkey] },
        { origin: '', keys: [] },
        { origin: 'other', keys: [] },
        { origin: 'cosigner-key', keys: ['w+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea'] },
      ],
    });
    const [one] = problems({ ...good(), SPORBAR_WITNESS_LOGS: '/bad.json' });
    expect(one).toMatch(/logs\[0\].*keys\[0\].*key ID/);
    expect(one).toMatch(/logs\[1\]: origin sporbar.test\/config is listed twice/);
    expect(one).toMatch(/logs\[2\].origin must be a non-empty/);
    expect(one).toMatch(/logs\[3\] \(other\).keys must list at least one vkey/);
    expect(one).toMatch(/logs\[4\] \(cosigner-key\).keys\[0\]/);
    files['/empty.json'] = '{"logs": []}';
    expect(problems({ ...good(), SPORBAR_WITNESS_LOGS: '/empty.json' })[0]).toMatch(/at least one log/);
    files['/notjson.json'] = '{';
    expect(problems({ ...good(), SPORBAR_WITNESS_LOGS: '/notjson.json' })[0]).toMatch(/not JSON/);
  });

  it('takes the key from SPORBAR_WITNESS_KEY_FILE (mounted secrets)', () => {
    const { SPORBAR_WITNESS_KEY: _key, ...rest } = good();
    expect(problems({ ...rest, SPORBAR_WITNESS_KEY_FILE: '/nowhere/key.pem' })[0]).toMatch(/^SPORBAR_WITNESS_KEY: SPORBAR_WITNESS_KEY_FILE: cannot read/);
  });
});
