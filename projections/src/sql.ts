import { pgliteSqlClient, pgPoolSqlClient, type PgliteLike, type PgPoolLike, type SqlClient, type SqlExecutor } from '@sporbar/common/sql';

/**
 * The little SQL surface read models need, met by both `pg` and PGlite, so every projection runs on
 * PostgreSQL and on the embedded default alike. The shape of a `pg` result (`{ rows }`), over the
 * shared `SqlClient` adapters of `@sporbar/common/sql`.
 */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends Sql {
  /** Runs fn in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

const withRows = (x: SqlExecutor): Sql => ({ query: async <T>(text: string, params?: unknown[]) => ({ rows: await x.query<T>(text, params) }) });

function fromSqlClient(client: SqlClient): SqlDatabase {
  return { ...withRows(client), transaction: (fn) => client.transaction((tx) => fn(withRows(tx))) };
}

export const fromPglite = (db: PgliteLike): SqlDatabase => fromSqlClient(pgliteSqlClient(db));

export const fromPgPool = (pool: PgPoolLike): SqlDatabase => fromSqlClient(pgPoolSqlClient(pool));
