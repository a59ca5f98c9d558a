import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { auditorConfigFromEnv } from '../src/config.ts';


describe("sporbar-audit's environment", () => {
  it('the embedded data directory unless only DATABASE_URL is set', () => {
    expect(auditorConfigFromEnv({})).toEqual({ store: 'pglite', dataDir: './data' });
    expect(auditorConfigFromEnv({ DATABASE_URL: 'postgres://h/db' })).toEqual({ store: 'postgres', dataDir: './data', databaseUrl: 'postgres://h/db' });
    expect(auditorConfigFromEnv({ DATABASE_URL: 'postgres://h/db', SPORBAR_DATA_DIR: 'd' })).toEqual({ store: 'pglite', dataDir: 'd', databaseUrl: 'postgres://h/db' });
    expect(auditorConfigFromEnv({ SPORBAR_STORE: 'postgres', SPORBAR_CHECKPOINT_PUBLIC_KEY: 'PEM' })).toEqual({ store: 'postgres', dataDir: './data', checkpointPublicKey: 'PEM' });
  });

  it('the subject map key: base64url of at least 32 bytes', () => {
    const key = Buffer.alloc(32, 9).toString('base64url');
    expect(auditorConfigFromEnv({ SPORBAR_SUBJECT_MAP_KEY: key })).toEqual({ store: 'pglite', dataDir: './data', subjectMapKey: key });
    const err = refusal(() => auditorConfigFromEnv({ SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(31, 9).toString('base64url') }));
    expect(variables(err)).toEqual(['SPORBAR_SUBJECT_MAP_KEY']);
    expect(err.message).toContain('must be at least 32 bytes (base64url), got 31 bytes');
    expect(err.message).not.toContain(Buffer.alloc(31, 9).toString('base64url'));
  });

  it('several problems: one SPB_ERR_CONFIG naming all of them', () => {
    const err = refusal(() => auditorConfigFromEnv({ SPORBAR_STORE: 'eventstoredb', SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: '/no/such/key.pem' }));
    expect(variables(err)).toEqual(['SPORBAR_STORE', 'SPORBAR_CHECKPOINT_PUBLIC_KEY']);
    expect(err.message).toContain('must be one of pglite, postgres');
  });
});
