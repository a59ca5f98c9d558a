import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { DEFAULT_DATABASE_URL, eventStoreConfigFromEnv, eventStoreEnv } from '../src/config.ts';


describe('the event store from the environment', () => {
  it('defaults to the local PostgreSQL', () => {
    expect(eventStoreConfigFromEnv({})).toEqual({ adapter: 'postgres', connectionString: DEFAULT_DATABASE_URL });
    expect(eventStoreConfigFromEnv({ DATABASE_URL: 'postgres://x/y' })).toEqual({ adapter: 'postgres', connectionString: 'postgres://x/y' });
  });

  it('PGlite in SPORBAR_DATA_DIR (default data/pglite); EventStoreDB at EVENTSTORE_URL[_FILE]', () => {
    expect(eventStoreConfigFromEnv({ SPORBAR_STORE: 'pglite' })).toEqual({ adapter: 'pglite', dataDir: 'data/pglite' });
    expect(eventStoreConfigFromEnv({ SPORBAR_STORE: 'pglite', SPORBAR_DATA_DIR: '/srv/pg' })).toEqual({ adapter: 'pglite', dataDir: '/srv/pg' });
    expect(eventStoreConfigFromEnv({ SPORBAR_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://h:2113' })).toEqual({ adapter: 'eventstoredb', connectionString: 'esdb://h:2113' });
  });

  it('names every problem: an unknown adapter, and EventStoreDB without its URL', () => {
    expect(variables(refusal(() => eventStoreConfigFromEnv({ SPORBAR_STORE: 'mongo' })))).toEqual(['SPORBAR_STORE']);
    const err = refusal(() => eventStoreConfigFromEnv({ SPORBAR_STORE: 'eventstoredb' }));
    expect(err.message).toContain('EVENTSTORE_URL  is required with SPORBAR_STORE=eventstoredb');
    const several = refusal(() => eventStoreConfigFromEnv({ SPORBAR_STORE: 'pglite', EVENTSTORE_URL_FILE: '/no/such/file' }, { adapters: ['postgres', 'eventstoredb'] }));
    expect(variables(several)).toEqual(['SPORBAR_STORE', 'EVENTSTORE_URL']);
  });

  it("a program's own adapters and defaults", () => {
    const auditor = { adapters: ['pglite', 'postgres'] as const, defaultAdapter: 'inferred' as const, defaultDatabaseUrl: null };
    expect(Object.keys(eventStoreEnv(auditor))).toEqual(['SPORBAR_STORE', 'DATABASE_URL', 'SPORBAR_DATA_DIR']);
    expect(eventStoreConfigFromEnv({}, auditor)).toEqual({ adapter: 'pglite', dataDir: 'data/pglite' });
    expect(eventStoreConfigFromEnv({ DATABASE_URL: 'postgres://x/y' }, auditor)).toEqual({ adapter: 'postgres', connectionString: 'postgres://x/y' });
    expect(eventStoreConfigFromEnv({ DATABASE_URL: 'postgres://x/y', SPORBAR_DATA_DIR: 'd' }, auditor)).toEqual({ adapter: 'pglite', dataDir: 'd' });
    expect(variables(refusal(() => eventStoreConfigFromEnv({ SPORBAR_STORE: 'postgres' }, auditor)))).toEqual(['DATABASE_URL']);
  });
});
