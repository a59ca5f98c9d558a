import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../services/event-store/test/support/postgres.ts';
import { activePrefix, DEFAULT_PREFIX, fromPgPool } from '../src/index.ts';

/**
 * The projector, the access API and the retention worker all ask for the active read models at start,
 * which creates the one-row table on a fresh database: started together, they raced in PostgreSQL's
 * catalogue and the losers failed at start (23505 on pg_type, 42P07, 42710: 8 failures in 15 before the fix).
 */
const pgProbe = await probePostgres();

describe.skipIf(!pgProbe.url)('activePrefix on a fresh database', () => {
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases) await dropTestDatabase(pgProbe.url!, name);
  });

  it('answers every process that asks at once', async () => {
    for (let round = 0; round < 5; round++) {
      const db = await createTestDatabase(pgProbe.url!);
      databases.push(db.name);
      const pools = [0, 1, 2, 3].map(() => new pg.Pool({ connectionString: db.url, max: 1 }));
      try {
        expect(await Promise.all(pools.map((p) => activePrefix(fromPgPool(p))))).toEqual(Array(4).fill(DEFAULT_PREFIX));
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    }
  });
});
