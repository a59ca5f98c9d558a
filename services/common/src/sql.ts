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

/**
 * `SqlClient`s over a `pg` Pool and over PGlite, typed by the little of each they use, so this
 * package imports neither driver: the caller brings its own. The one place a transaction is opened
 * on a pooled connection (every package that needs one uses these).
 */

interface PgQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PgPoolClientLike extends PgQueryable {
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}

/** The part of a `pg` Pool used here. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
}

const pgExecutor = (c: PgQueryable): SqlExecutor => ({
  query: async <R>(text: string, params?: readonly unknown[]) => (await c.query(text, params as unknown[] | undefined)).rows as R[],
  exec: async (text: string) => {
    await c.query(text); // no parameters: the simple protocol, which takes several statements
  },
});

export function pgPoolSqlClient(pool: PgPoolLike): SqlClient {
  return {
    ...pgExecutor(pool),
    async transaction(fn) {
      const conn = await pool.connect();
      // A checked-out client has no idle-error listener: without one, a server restart mid-transaction
      // would be an unhandled 'error' event and end the process. The failed query rejects anyway.
      const onError = () => undefined;
      conn.on('error', onError);
      let broken: Error | undefined;
      try {
        await conn.query('BEGIN');
        const result = await fn(pgExecutor(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        broken = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        conn.off('error', onError);
        conn.release(broken); // a client whose transaction failed is discarded, not reused
      }
    },
  };
}

interface PgliteExecutorLike {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(text: string): Promise<unknown>;
}

/** The part of a PGlite used here. */
export interface PgliteLike extends PgliteExecutorLike {
  transaction<T>(fn: (tx: PgliteExecutorLike) => Promise<T>): Promise<T>;
}

const pgliteExecutor = (db: PgliteExecutorLike): SqlExecutor => ({
  query: async <R>(text: string, params?: readonly unknown[]) => (await db.query<R>(text, params as unknown[] | undefined)).rows,
  exec: async (text: string) => {
    await db.exec(text);
  },
});

export function pgliteSqlClient(db: PgliteLike): SqlClient {
  return { ...pgliteExecutor(db), transaction: (fn) => db.transaction((tx) => fn(pgliteExecutor(tx))) };
}
