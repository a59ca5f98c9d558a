import pg from 'pg';
import { configError } from '../errors.ts';
import { retry, type RetryOptions } from '@sporbar/common/retry';
import { Waker } from '../waker.ts';
import type { EventStore } from '../port.ts';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { notifyChannel, schemaName } from './client.ts';
import { scanAllByCopy } from './copy-scan.ts';
import { classifyPgError } from './errors.ts';
import { PgListener } from './listener.ts';
import { migrate } from '@sporbar/common/migrate';
import { migrationSet } from './migrations/index.ts';
import { createSqlEventStore } from './sql-event-store.ts';

export interface PostgresEventStoreOptions {
  /** postgres://user@host:port/db. Either this or `pool`. */
  readonly connectionString?: string;
  /** An existing pool; the store does not end it on close(). LISTEN then needs `connectionString` or uses the pool's config. */
  readonly pool?: pg.Pool;
  /** Pool size when the store creates the pool. Default 10. */
  readonly poolSize?: number;
  /** PostgreSQL schema of the store's tables. Default 'sporbar'. */
  readonly schema?: string;
  /** Polling fallback of live subscriptions when a NOTIFY is missed, ms. Default 1000. */
  readonly pollIntervalMs?: number;
  /** Retries of connection errors (appends are safe to retry: eventId makes them idempotent). */
  readonly retry?: RetryOptions;
}

// bigint columns travel as text (::text in every query); keep pg from touching anything else.

/**
 * PostgreSQL over a `pg` Pool. Migrations run on start (advisory-locked, see @sporbar/common/migrate). Connection
 * errors become retriable SPB_ERR_STORE_UNAVAILABLE and are retried with backoff; live subscriptions
 * are woken by LISTEN/NOTIFY and poll as a fallback. `scanAll` is one COPY in binary format
 * (copy-scan.ts) instead of keyset pages.
 */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  if (!options.pool && !options.connectionString) {
    throw configError('createPostgresEventStore: pass connectionString or pool.');
  }
  const schema = schemaName(options.schema);
  const owned = !options.pool;
  const pool =
    options.pool ??
    new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server (restart) must not crash the process; the next query reconnects.
  const onPoolError = () => undefined;
  pool.on('error', onPoolError);
  // Every client keeps a listener of its own too: a server that terminates a connection while the
  // client is checked out or being ended (restart, DROP DATABASE ... FORCE) emits 'error' on the
  // client, which without a listener would crash the process. The failing query rejects anyway.
  const onClientConnect = (client: pg.PoolClient) => void client.on('error', onPoolError);
  pool.on('connect', onClientConnect);

  const retryOptions: RetryOptions = { maxAttempts: 8, initialDelayMs: 50, maxDelayMs: 2000, ...options.retry };
  const run = <T>(op: () => Promise<T>): Promise<T> =>
    retry(async () => {
      try {
        return await op();
      } catch (err) {
        throw classifyPgError(err);
      }
    }, retryOptions);

  const client = pgPoolSqlClient(pool);
  try {
    await run(() => migrate(client, schema, migrationSet));
  } catch (err) {
    pool.off('error', onPoolError);
    if (owned) await pool.end();
    throw err;
  }

  const waker = new Waker();
  const listener = new PgListener(
    () => {
      const c = new pg.Client(options.connectionString ?? (pool.options as pg.ClientConfig));
      return c;
    },
    notifyChannel(schema),
    () => waker.wake(),
  );

  const store = createSqlEventStore({
    adapter: 'postgres',
    db: client,
    schema,
    waker,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    run,
    isRetriable: (err) => (classifyPgError(err) as { retriable?: boolean }).retriable === true,
    // Connecting is retried; the COPY itself is not (rows may have been handed over already).
    scanAll: async (onEvent, scanOptions) => {
      try {
        await scanAllByCopy(() => run(() => pool.connect()), schema, onEvent, scanOptions);
      } catch (err) {
        throw classifyPgError(err);
      }
    },
    afterAppend: () => waker.wake(),
    dispose: async () => {
      await listener.stop();
      // The no-op error listeners stay: a pool the caller owns may outlive this store, and its idle
      // clients can still be terminated by the server (restart, DROP DATABASE ... FORCE).
      if (owned) await pool.end();
    },
  });
  const subscribe = store.subscribe.bind(store);
  return {
    ...store,
    subscribe(handler, subscribeOptions) {
      const sub = subscribe(handler, subscribeOptions);
      listener.start();
      return sub;
    },
  };
}
