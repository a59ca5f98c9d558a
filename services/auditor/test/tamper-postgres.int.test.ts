import { afterAll, beforeAll, describe } from 'vitest';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { postgresTestLog } from './support.ts';
import { tamperSuite } from './tamper-scenarios.ts';

// Top-level: skip with a reason on a laptop without PostgreSQL, throw under CI=true.
const probe = await probePostgres();
if (probe.skip) console.warn(`tamper-postgres: skipped: ${probe.skip}`);
let db: { name: string; url: string } | undefined;

beforeAll(async () => {
  if (probe.url) db = await createTestDatabase(probe.url);
});
afterAll(async () => {
  if (probe.url && db) await dropTestDatabase(probe.url, db.name);
});

describe.skipIf(probe.skip !== undefined)('verify catches tampering on PostgreSQL (COPY reader)', () => {
  tamperSuite(() => postgresTestLog(db!.url));
});
