/**
 * The little SQL surface read models need, met by both `pg` and PGlite, so every projection runs on
 * PostgreSQL and on the embedded default alike.
 */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends Sql {
  /** Runs fn in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

interface PgliteLike {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: { query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
}

export function fromPglite(db: PgliteLike): SqlDatabase {
  return {
    query: (text, params) => db.query(text, params),
    transaction: (fn) => db.transaction((tx) => fn({ query: (text, params) => tx.query(text, params) })),
  };
}

interface PgClientLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}
interface PgPoolLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  connect(): Promise<PgClientLike>;
}

export function fromPgPool(pool: PgPoolLike): SqlDatabase {
  const wrap = (c: { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): Sql => ({
    query: async <T>(text: string, params?: unknown[]) => (await c.query(text, params)) as { rows: T[] },
  });
  return {
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      // Checked out, the client has no idle-error listener: a server restart mid-transaction must
      // reject the query, not crash the process with an unhandled 'error' event.
      const onError = () => undefined;
      client.on('error', onError);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        broken = e instanceof Error ? e : new Error(String(e));
        throw e;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
  };
}
