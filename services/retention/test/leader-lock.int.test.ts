import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createAdvisoryLock, type LeaderLock } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, probePostgres, waitFor } from './support.ts';

/** The lock that keeps one retention worker active, on a real PostgreSQL: one holder, handed over when its session ends. */
const pgProbe = await probePostgres();
if (!pgProbe.url && process.env['CI'] === 'true') throw new Error('PostgreSQL missing under CI=true');
const quiet = { info: () => undefined, warn: () => undefined };

describe.skipIf(!pgProbe.url)('the advisory leader lock', () => {
  let db: { name: string; url: string };
  let admin: pg.Pool;
  const locks: LeaderLock[] = [];
  const lock = (name = 'sporbar-retention') => {
    const l = createAdvisoryLock(db.url, name, quiet);
    locks.push(l);
    return l;
  };
  beforeAll(async () => {
    db = await createTestDatabase(pgProbe.url!);
    admin = new pg.Pool({ connectionString: db.url, max: 1 });
  });
  afterAll(async () => {
    for (const l of locks) await l.release();
    await admin?.end();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
  });

  it('has one holder; released or its session killed, the other takes it; the loser stands by', async () => {
    const a = lock();
    const b = lock();
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true); // kept
    expect(await lock('another-name').acquire()).toBe(true); // another name, another lock

    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);

    // b's session is killed (a crash, a failover, a network cut): PostgreSQL drops its lock, a takes it,
    // and b, whose session no longer answers, stands by.
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sporbar-retention-lock' AND pid <> pg_backend_pid() AND datname = current_database()
                         AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`);
    // pg_terminate_backend signals; the backend ends (and its lock goes) a moment later: a standby tries every interval.
    await waitFor(() => a.acquire(), 10_000, 'a takes the lock of the killed session');
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true);
  });
});
