import { PGlite } from '@electric-sql/pglite';
import { configError } from '../errors.ts';
import { Waker } from '../waker.ts';
import type { EventStore } from '../port.ts';
import { pgliteSqlClient } from '@sporbar/common/sql';
import { notifyChannel, schemaName } from '../postgres/client.ts';
import { migrate } from '@sporbar/common/migrate';
import { migrationSet } from '../postgres/migrations/index.ts';
import { createSqlEventStore } from '../postgres/sql-event-store.ts';

export interface PgliteEventStoreOptions {
  /** Where PGlite keeps its files; undefined = in memory. Data in a directory survives reopening. */
  readonly dataDir?: string;
  /** An existing PGlite to share with read models; the store then does not close it. */
  readonly db?: PGlite;
  /** PostgreSQL schema of the store's tables. Default 'sporbar'. */
  readonly schema?: string;
  /** Polling fallback of live subscriptions, ms. Default 1000. */
  readonly pollIntervalMs?: number;
}


/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in-process. One PGlite runs one query at
 * a time, so appends are trivially serialised; the same SQL (and the same ordering argument) as the
 * postgres adapter applies. Live subscriptions are woken in-process after each append and by PGlite's
 * LISTEN (so a second store object on a shared PGlite wakes them as well).
 */
export async function createPgliteEventStore(options: PgliteEventStoreOptions = {}): Promise<EventStore> {
  if (options.db && options.dataDir !== undefined) {
    throw configError('createPgliteEventStore: pass either db or dataDir, not both.');
  }
  const schema = schemaName(options.schema);
  const owned = !options.db;
  const db = options.db ?? (await PGlite.create(options.dataDir));
  const client = pgliteSqlClient(db);
  try {
    await migrate(client, schema, migrationSet);
  } catch (err) {
    if (owned) await db.close();
    throw err;
  }
  const waker = new Waker();
  const unlisten = await db.listen(notifyChannel(schema), () => waker.wake());
  return createSqlEventStore({
    adapter: 'pglite',
    db: client,
    schema,
    waker,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    run: (op) => op(),
    isRetriable: () => false,
    afterAppend: () => waker.wake(),
    dispose: async () => {
      if (db.closed) return;
      await unlisten();
      if (owned) await db.close();
    },
  });
}
