/**
 * The little Sporbar's SQL code needs from a PostgreSQL driver. `pg` (Pool) and PGlite both provide
 * it through a thin adapter, so the same SQL serves PostgreSQL and the embedded PGlite alike. No
 * driver is imported here: each package that talks to a database adapts its own.
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
