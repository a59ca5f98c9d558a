import * as m001 from './001-initial.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL for the given schema name. Runs inside the migration transaction. */
  readonly sql: (schema: string) => string;
}

/** Ordered, append-only: never edit a released migration, add the next version instead. */
export const migrations: readonly Migration[] = [{ version: 1, name: m001.name, sql: m001.sql }];
