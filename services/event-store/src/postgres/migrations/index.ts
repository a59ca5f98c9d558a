import type { Migration, MigrationSet } from '@sporbar/common/migrate';
import * as m001 from './001-initial.ts';
import * as m002 from './002-append-many.ts';
import * as m003 from './003-append-many-one-pass.ts';
import * as m004 from './004-append-many-without-temp-table.ts';

export type { Migration };

/** Ordered, append-only: never edit a released migration, add the next version instead. */
export const migrations: readonly Migration[] = [
  { version: 1, name: m001.name, sql: m001.sql },
  { version: 2, name: m002.name, sql: m002.sql },
  { version: 3, name: m003.name, sql: m003.sql },
  { version: 4, name: m004.name, sql: m004.sql },
];

/** The event store's migrations, recorded in `<schema>.migrations`. */
export const migrationSet: MigrationSet = { historyTable: 'migrations', migrations };
