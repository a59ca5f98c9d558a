import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { logServiceConfigFromEnv } from '../src/config.ts';
import { TEST_SUBJECT_MAP_KEY, checkpointKeyFiles, noWitnessPolicyFile } from './support.ts';

const problemsOf = (env: Record<string, string>): Array<{ variable: string; problem: string }> => {
  try {
    logServiceConfigFromEnv(env);
  } catch (err) {
    if (isSporbarError(err, 'SPB_ERR_CONFIG')) return (err.details as { problems: Array<{ variable: string; problem: string }> }).problems;
    throw err;
  }
  return [];
};

describe('the log service configuration', () => {
  it('in production, with nothing given, lists every problem at once: no origin, no signer', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://x@127.0.0.1/y' }).map((p) => p.variable)).toEqual(['SPORBAR_LOG_ORIGIN', 'SPORBAR_CHECKPOINT_KEY', 'SPORBAR_WITNESS_POLICY_FILE', 'SPORBAR_SUBJECT_MAP_KEY']);
    // "Production" is not development: fail closed.
    expect(problemsOf({ SPORBAR_ENV: 'Development' }).map((p) => p.variable)).toEqual(['SPORBAR_LOG_ORIGIN', 'SPORBAR_CHECKPOINT_KEY', 'SPORBAR_WITNESS_POLICY_FILE', 'SPORBAR_SUBJECT_MAP_KEY']);
  });

  it('lists bad values of several variables together', () => {
    const problems = problemsOf({
      SPORBAR_LOG_ORIGIN: 'example.org/log',
      SPORBAR_CHECKPOINT_SIGNER_COMMAND: 'kms-sign',
      SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '0',
      PORT: 'x',
      SPORBAR_STORE: 'pglite',
    });
    expect(problems.map((p) => p.variable).sort()).toEqual(['PORT', 'SPORBAR_CHECKPOINT_INTERVAL_SECONDS', 'SPORBAR_STORE'].sort());
    // Checks across variables run once every variable is valid on its own.
    const across = problemsOf({ SPORBAR_LOG_ORIGIN: 'example.org/log', SPORBAR_CHECKPOINT_SIGNER_COMMAND: 'kms-sign' });
    expect(across).toEqual([
      { variable: 'SPORBAR_LOG_ORIGIN', problem: expect.stringContaining("must be 'sporbar.v1/<log id>'") },
      { variable: 'SPORBAR_CHECKPOINT_PUBLIC_KEY', problem: expect.stringContaining('is required') },
      { variable: 'SPORBAR_WITNESS_POLICY_FILE', problem: expect.stringContaining('is required unless SPORBAR_ENV=development') },
      { variable: 'SPORBAR_SUBJECT_MAP_KEY', problem: expect.stringContaining('is required unless SPORBAR_ENV=development') },
    ]);
  });

  it('refuses a key file and a command together, a public key that is not the key file\'s, a key that is not Ed25519', () => {
    const a = checkpointKeyFiles();
    const b = checkpointKeyFiles();
    const base = { SPORBAR_LOG_ID: 'x', SPORBAR_WITNESS_POLICY_FILE: noWitnessPolicyFile({ keyFile: a.keyFile }, 'sporbar.v1/x'), SPORBAR_SUBJECT_MAP_KEY: TEST_SUBJECT_MAP_KEY };
    expect(problemsOf({ ...base, SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, SPORBAR_CHECKPOINT_SIGNER_COMMAND: 'kms-sign' }).map((p) => p.variable)).toEqual(['SPORBAR_CHECKPOINT_SIGNER_COMMAND']);
    expect(problemsOf({ ...base, SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: b.publicKeyFile })).toEqual([
      { variable: 'SPORBAR_CHECKPOINT_PUBLIC_KEY', problem: expect.stringContaining("not the signing key's public half") },
    ]);
    expect(problemsOf({ ...base, SPORBAR_CHECKPOINT_KEY: 'not a key' }).map((p) => p.variable)).toEqual(['SPORBAR_CHECKPOINT_KEY']);
    expect(problemsOf({ ...base, SPORBAR_CHECKPOINT_KEY_FILE: '/nonexistent/checkpoint.key' })[0]).toMatchObject({ variable: 'SPORBAR_CHECKPOINT_KEY', problem: expect.stringContaining('cannot read') });
  });

  it('reads a key file, the origin from a log id, the defaults; development may leave the origin out', () => {
    const a = checkpointKeyFiles();
    const policy = noWitnessPolicyFile({ keyFile: a.keyFile }, 'sporbar.v1/kommune-0101');
    const config = logServiceConfigFromEnv({ SPORBAR_LOG_ID: 'kommune-0101', SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, DATABASE_URL: 'postgres://x@127.0.0.1/y', SPORBAR_WITNESS_POLICY_FILE: policy, SPORBAR_SUBJECT_MAP_KEY: TEST_SUBJECT_MAP_KEY });
    expect(config).toMatchObject({ origin: 'sporbar.v1/kommune-0101', host: '127.0.0.1', port: 3200, intervalMs: 60_000, everyEvents: 1000, leaderRetryMs: 5000, production: true, lockDatabaseUrl: 'postgres://x@127.0.0.1/y' });
    expect(config.subjectMap).toEqual({ key: Buffer.from(TEST_SUBJECT_MAP_KEY, 'base64url'), everyMs: 60_000, everyEvents: 100_000, heartbeatMs: 21_600_000 });
    // A map key shorter than 32 bytes is refused; development without one keeps no map.
    expect(problemsOf({ SPORBAR_LOG_ID: 'kommune-0101', SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, SPORBAR_WITNESS_POLICY_FILE: policy, SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(16).toString('base64url') })).toEqual([
      { variable: 'SPORBAR_SUBJECT_MAP_KEY', problem: expect.stringContaining('at least 32 bytes') },
    ]);
    // The heartbeat may be shorter than 6 h, never longer: citizens' checks refuse a map older than 6 h + 1 h.
    const env = { SPORBAR_LOG_ID: 'kommune-0101', SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, SPORBAR_WITNESS_POLICY_FILE: policy, SPORBAR_SUBJECT_MAP_KEY: TEST_SUBJECT_MAP_KEY };
    expect(logServiceConfigFromEnv({ ...env, SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS: '3600' }).subjectMap?.heartbeatMs).toBe(3_600_000);
    expect(problemsOf({ ...env, SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS: '21601' }).map((p) => p.variable)).toEqual(['SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS']);
    expect(config.signer.kind).toBe('key');
    expect(config.publicKey.publicKey.export({ format: 'pem', type: 'spki' }).toString()).toBe(a.publicKeyPem);
    const dev = logServiceConfigFromEnv({ SPORBAR_ENV: 'development', SPORBAR_CHECKPOINT_SIGNER_COMMAND: 'kms-sign', SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: a.publicKeyFile });
    expect(dev).toMatchObject({ origin: 'sporbar.v1/development', production: false, signer: { kind: 'command', command: 'kms-sign', timeoutMs: 10_000 } });
    expect(dev.subjectMap).toBeUndefined();
  });

  it('requires a witness policy in production (fail closed): `quorum none` with this log is the explicit way to have no witnesses; the policy must list this log', () => {
    const a = checkpointKeyFiles();
    const env = { SPORBAR_LOG_ID: 'kommune-0101', SPORBAR_CHECKPOINT_KEY_FILE: a.keyFile, DATABASE_URL: 'postgres://x@127.0.0.1/y', SPORBAR_SUBJECT_MAP_KEY: TEST_SUBJECT_MAP_KEY };
    expect(problemsOf(env)).toEqual([{ variable: 'SPORBAR_WITNESS_POLICY_FILE', problem: expect.stringContaining('`quorum none`') }]);
    const none = logServiceConfigFromEnv({ ...env, SPORBAR_WITNESS_POLICY_FILE: noWitnessPolicyFile({ keyFile: a.keyFile }, 'sporbar.v1/kommune-0101') });
    expect(none.witnessPolicy?.policy.quorum).toBe('none');
    expect(problemsOf({ ...env, SPORBAR_WITNESS_POLICY_FILE: noWitnessPolicyFile({ keyFile: a.keyFile }, 'sporbar.v1/another-log') })).toEqual([
      { variable: 'SPORBAR_WITNESS_POLICY_FILE', problem: expect.stringContaining('sporbar.v1/kommune-0101') },
    ]);
    expect(logServiceConfigFromEnv({ ...env, SPORBAR_ENV: 'development' }).witnessPolicy).toBeUndefined();
  });
});
