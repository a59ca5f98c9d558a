export * from './errors.ts';
export * from './cache.ts';
export * from './config.ts';
export { retry, backoffDelay, isMarkedRetriable, type RetryOptions } from './retry.ts';
export type { SqlClient, SqlExecutor } from './sql.ts';
export { migrate, migrationLockName, type Migration, type MigrationSet } from './migrate.ts';
export * from './main-module.ts';
