import type { SqlClient } from './client.ts';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';

/**
 * Brings the schema up to date. Safe when several processes start at once: everything happens in
 * one transaction that first takes a transaction-scoped advisory lock (per schema), so the second
 * process waits, then sees the versions the first recorded and applies nothing. DDL is
 * transactional in PostgreSQL, so a failed migration leaves no trace.
 */
export async function migrate(
  client: SqlClient,
  schema: string,
  migrations: readonly Migration[] = allMigrations,
): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`sporbar-event-store-migrate:${schema}`]);
    await tx.exec(`
      CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${schema}.migrations (
        version    int         PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );`);
    const rows = await tx.query<{ version: number }>(`SELECT version FROM ${schema}.migrations`);
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql(schema));
      await tx.query(`INSERT INTO ${schema}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
