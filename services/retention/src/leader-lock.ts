import { createHash } from 'node:crypto';
import pg from 'pg';

/** One active instance: whoever holds the lock runs; the others stand by and try again. */
export interface LeaderLock {
  /** Whether this process holds the lock now: keeps it if held (its session still answers), else tries to take it. */
  acquire(): Promise<boolean>;
  /** Gives the lock up and closes its session. */
  release(): Promise<void>;
}

/** The advisory-lock key of a name: the first 8 bytes of its SHA-256, as PostgreSQL's signed bigint. */
export const advisoryLockKey = (name: string): bigint => createHash('sha256').update(name).digest().readBigInt64BE(0);

export interface AdvisoryLockLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * A PostgreSQL session advisory lock on a connection of its own (never a pooled one: the lock belongs
 * to the session). When this process dies or its connection drops, PostgreSQL ends the session and
 * releases the lock, and a standby's next `acquire()` takes it. A session that stops answering is
 * dropped here too, so this process never believes it holds a lock it lost.
 */
export function createAdvisoryLock(connectionString: string, name: string, log: AdvisoryLockLogger): LeaderLock {
  const key = advisoryLockKey(name).toString();
  let client: pg.Client | undefined;
  let held = false;

  const drop = (reason: string) => {
    if (held) log.warn({ lock: name, reason }, 'lost the lock: standing by');
    held = false;
    const c = client;
    client = undefined;
    c?.removeAllListeners('error');
    c?.on('error', () => undefined);
    void c?.end().catch(() => undefined);
  };

  return {
    async acquire() {
      try {
        if (client && held) {
          await client.query('SELECT 1');
          return true;
        }
        if (!client) {
          // Timeouts: a session that hangs (a network black hole) is dropped, never trusted.
          const c = new pg.Client({ connectionString, application_name: `${name}-lock`, connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
          c.on('error', (err) => drop(err.message));
          client = c;
          await c.connect();
        }
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
        held = rows[0]?.ok === true;
        if (held) log.info({ lock: name }, 'holding the lock: active');
        return held;
      } catch (err) {
        drop((err as { code?: string }).code ?? (err as Error).name);
        return false;
      }
    },
    async release() {
      const c = client;
      client = undefined;
      if (!c) return;
      try {
        if (held) await c.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      } catch {
        // the session is gone: so is the lock
      } finally {
        held = false;
        await c.end().catch(() => undefined);
      }
    },
  };
}
