import type { SqlExecutor } from '@sporbar/common/sql';

/**
 * The schemas of a database that hold a SQL event store (its `events` table, see
 * migrations/001-initial.ts), system schemas aside. Lets a tool that writes into a scratch
 * database (the auditor's replay) refuse a live store without knowing the store's tables.
 */
export async function eventStoreSchemas(db: Pick<SqlExecutor, 'query'>): Promise<string[]> {
  const rows = await db.query<{ schema: string }>(
    `SELECT t.table_schema::text AS schema FROM information_schema.tables t
      WHERE t.table_name = 'events' AND t.table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1`,
  );
  return rows.map((r) => r.schema);
}
