import { configError } from '../errors.ts';

/**
 * The little the SQL adapters need from a PostgreSQL driver. `pg` (Pool) and PGlite both provide it,
 * so the SQL in this folder serves the postgres and the pglite adapter alike.
 */
export interface SqlExecutor {
  /** One statement, $n parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `fn` in one transaction on one connection: COMMIT on success, ROLLBACK on error. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A validated schema name, safe to splice into SQL. */
export function schemaName(schema: string | undefined): string {
  const s = schema ?? 'sporbar';
  if (!SCHEMA_NAME.test(s)) throw configError(`Invalid schema name ${JSON.stringify(s)}: use [a-z_][a-z0-9_]*.`);
  return s;
}

/** The NOTIFY channel an append signals on (one per schema). */
export const notifyChannel = (schema: string): string => `${schema}_events`;
