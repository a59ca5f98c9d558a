import type { SqlClient } from './sql.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL for the given schema name. Runs inside the migration transaction. */
  readonly sql: (schema: string) => string;
}

export interface MigrationSet {
  /** The table (in the schema) that records which versions ran: one per component, e.g. `migrations`, `key_store_migrations`. */
  readonly historyTable: string;
  /** Ordered, append-only: never edit a released migration, add the next version instead. */
  readonly migrations: readonly Migration[];
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The advisory lock every Sporbar migration of one schema takes, whichever component it belongs to. */
export const migrationLockName = (schema: string): string => `sporbar-event-store-migrate:${schema}`;

/**
 * Brings one component's tables in `schema` up to date. Safe when several processes start at once:
 * everything happens in one transaction that first takes a transaction-scoped advisory lock per
 * schema (the same lock for every component: the event store's and the key store's migrations never
 * interleave), so the second process waits, then sees the versions the first recorded and applies
 * nothing. DDL is transactional in PostgreSQL, so a failed migration leaves no trace.
 */
export async function migrate(client: SqlClient, schema: string, set: MigrationSet): Promise<number[]> {
  if (!IDENTIFIER.test(schema)) throw new RangeError(`invalid schema name ${JSON.stringify(schema)}`);
  if (!IDENTIFIER.test(set.historyTable)) throw new RangeError(`invalid history table name ${JSON.stringify(set.historyTable)}`);
  const history = `${schema}.${set.historyTable}`;
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [migrationLockName(schema)]);
    await tx.exec(`
      CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${history} (
        version    int         PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );`);
    const rows = await tx.query<{ version: number }>(`SELECT version FROM ${history}`);
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of set.migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql(schema));
      await tx.query(`INSERT INTO ${history} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
