import { migrate, type Migration, type MigrationSet } from '@sporbar/common/migrate';
import type { SqlClient } from '@sporbar/common/sql';
import { subjectKeyTable } from '../key-table.ts';
import * as m001 from './001-subject-keys.ts';

/**
 * The key table's versioned migrations, for one table name. Ordered, append-only: never edit a
 * released migration, add the next version instead.
 *
 * Each key table keeps its history next to it, in `<schema>.<table>_migrations` (the default table's
 * is `public.subject_keys_migrations`): a history per table, so two key tables in one schema (tests,
 * or two deployments sharing a database) never take each other's versions for their own.
 */
export function subjectKeyMigrations(table?: string): MigrationSet & { readonly schema: string } {
  const { schema, name } = subjectKeyTable(table);
  const migrations: readonly Migration[] = [{ version: 1, name: m001.name, sql: (s) => m001.sql(s, name) }];
  return { schema, historyTable: `${name}_migrations`, migrations };
}

/**
 * Brings the key table (default `public.subject_keys`) up to date, through the migration runner every
 * Sporbar component shares (`@sporbar/common/migrate`: one transaction under the schema's advisory
 * lock, so processes starting at once apply each version once). Returns the versions it applied.
 */
export async function migrateSubjectKeys(client: SqlClient, options: { readonly table?: string } = {}): Promise<number[]> {
  const set = subjectKeyMigrations(options.table);
  return migrate(client, set.schema, set);
}
