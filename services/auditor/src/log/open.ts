import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createPgliteEventStore, createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { fromPgPool, fromPglite, type SqlDatabase } from '@sporbar/projections';
import { SporbarError } from '@sporbar/common/errors';
import { storeLogSource, type LogSource } from './source.ts';

/**
 * Opening the stores the auditor reads: the embedded default (PGlite in a data directory, event store
 * in schema `sporbar`, read models `rm_*` in `public` of the same database) or PostgreSQL. The log is
 * opened with the event store's factories and read through its port only; the database handle is
 * for the read models (`diff`, and the PGlite the store shares with them).
 *
 * A PGlite directory can be open in one process only: run the auditor while `npm start` is stopped,
 * or against a copy of the data directory.
 */
export interface StoreConfig {
  readonly store: 'pglite' | 'postgres';
  /** PGlite: the data directory (`./data`, whose PGlite is `./data/pglite`) or the PGlite directory itself. */
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  /** Event-store schema (default 'sporbar'). */
  readonly schema?: string;
}

export interface OpenedDatabase {
  /** Normalised location: the PGlite directory or the URL. */
  readonly location: string;
  readonly db: SqlDatabase;
  readonly pglite?: PGlite;
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

export interface OpenedLog {
  readonly store: EventStore;
  /** The log through the store's port (its scanAll: COPY on PostgreSQL, keyset pages on PGlite). */
  readonly source: LogSource;
  /** The same database, for its read models. */
  readonly database: OpenedDatabase;
  close(): Promise<void>;
}

const isUrl = (s: string): boolean => /^postgres(ql)?:\/\//.test(s);

/** The PGlite directory inside an embedded data dir, or the dir itself; undefined if neither holds a database. */
export function pgliteDirectory(dir: string): string | undefined {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'pglite', 'PG_VERSION'))) return join(abs, 'pglite');
  if (existsSync(join(abs, 'PG_VERSION'))) return abs;
  return undefined;
}

/** Opens a database given as a PostgreSQL URL or a PGlite directory. `create`: a missing PGlite directory is created (scratch targets). */
export async function openDatabase(location: string, options: { create?: boolean } = {}): Promise<OpenedDatabase> {
  if (isUrl(location)) {
    const pool = new pg.Pool({ connectionString: location, max: 4 });
    pool.on('error', () => undefined);
    await pool.query('SELECT 1');
    return { location, db: fromPgPool(pool), pool, close: () => pool.end() };
  }
  let dir = pgliteDirectory(location);
  if (!dir) {
    if (!options.create) throw new SporbarError('SPB_ERR_CONFIG', `no PGlite database in ${resolve(location)} (nor in ${join(resolve(location), 'pglite')})`);
    dir = resolve(location);
    mkdirSync(dir, { recursive: true });
  }
  const pglite = await PGlite.create(dir);
  return { location: dir, db: fromPglite(pglite), pglite, close: () => pglite.close() };
}

/** The same place, however it was written (relative path, data dir or its pglite/ subdirectory). */
export function sameLocation(a: string, b: string): boolean {
  if (isUrl(a) || isUrl(b)) return a === b;
  return (pgliteDirectory(a) ?? resolve(a)) === (pgliteDirectory(b) ?? resolve(b));
}

export async function openLog(config: StoreConfig): Promise<OpenedLog> {
  const schema = config.schema ?? 'sporbar';
  if (config.store === 'postgres') {
    if (!config.databaseUrl) throw new SporbarError('SPB_ERR_CONFIG', '--store postgres needs --database-url (or DATABASE_URL)');
    const database = await openDatabase(config.databaseUrl);
    const store = await createPostgresEventStore({ pool: database.pool!, schema });
    return {
      store,
      source: storeLogSource(store, `PostgreSQL (schema ${schema})`),
      database,
      async close() {
        await store.close();
        await database.close();
      },
    };
  }
  if (config.store !== 'pglite') throw new SporbarError('SPB_ERR_CONFIG', `--store must be pglite or postgres, got '${String(config.store)}'`);
  const database = await openDatabase(config.dataDir ?? './data');
  const store = await createPgliteEventStore({ db: database.pglite!, schema });
  return {
    store,
    source: storeLogSource(store, `PGlite ${database.location} (schema ${schema})`),
    database,
    async close() {
      await store.close();
      await database.close();
    },
  };
}
