import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../services/common/test/support/config-refusal.ts';
import { projectorConfigFromEnv } from '../src/config.ts';


describe('the projector configuration', () => {
  it('PostgreSQL by default; the read models where the log is unless READ_MODELS_DATABASE_URL says', () => {
    const local = 'postgres://postgres@127.0.0.1:5432/sporbar';
    expect(projectorConfigFromEnv({})).toEqual({ logLevel: 'info', store: { adapter: 'postgres', connectionString: local }, readModelsDatabaseUrl: local, metricsHost: '127.0.0.1', metricsPort: 9465 });
    expect(projectorConfigFromEnv({ DATABASE_URL: 'postgres://a/log' }).readModelsDatabaseUrl).toBe('postgres://a/log');
    expect(projectorConfigFromEnv({ SPORBAR_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://h', READ_MODELS_DATABASE_URL: 'postgres://b/rm' })).toEqual({
      logLevel: 'info',
      store: { adapter: 'eventstoredb', connectionString: 'esdb://h' },
      readModelsDatabaseUrl: 'postgres://b/rm',
      metricsHost: '127.0.0.1',
      metricsPort: 9465,
    });
    expect(projectorConfigFromEnv({ METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(projectorConfigFromEnv({ METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
  });

  it('several problems: one SPB_ERR_CONFIG naming all of them (PGlite is the embedded default, projected in process)', () => {
    const err = refusal(() => projectorConfigFromEnv({ SPORBAR_STORE: 'pglite', LOG_LEVEL: 'chatty', METRICS_PORT: '65536' }));
    expect(variables(err)).toEqual(['LOG_LEVEL', 'SPORBAR_STORE', 'METRICS_PORT']);
    expect(variables(refusal(() => projectorConfigFromEnv({ SPORBAR_STORE: 'eventstoredb' })))).toEqual(['EVENTSTORE_URL']);
  });
});
