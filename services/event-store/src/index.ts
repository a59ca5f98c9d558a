export * from './port.ts';
export { createPgliteEventStore, type PgliteEventStoreOptions } from './pglite/pglite-event-store.ts';
export { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store.ts';
export {
  createEventStoreDbEventStore,
  globalLogRegex,
  type EventStoreDbEventStoreOptions,
} from './eventstoredb/eventstoredb-event-store.ts';
export { createEventStore, type EventStoreConfig } from './create-event-store.ts';
export { migrations, type Migration } from './postgres/migrations/index.ts';
export { MAX_METADATA_BYTES } from './validate.ts';
export { isConnectionError } from './postgres/errors.ts';
export {
  eventStoreEnv,
  eventStoreConfigFrom,
  eventStoreConfigFromEnv,
  chosenAdapter,
  dataDirFrom,
  databaseUrlFrom,
  DEFAULT_DATABASE_URL,
  type EventStoreAdapter,
  type EventStoreEnvOptions,
} from './config.ts';
export { eventStoreSchemas } from './postgres/store-schemas.ts';
export type { SqlClient, SqlExecutor } from '@sporbar/common/sql';
