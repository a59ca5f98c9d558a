import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe } from 'vitest';
import { pgliteTestLog } from './support.ts';
import { tamperSuite } from './tamper-scenarios.ts';

// One PGlite for the file (booting one takes seconds); each test gets its own schema.
let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
});
afterAll(async () => {
  await db?.close();
});

describe('verify catches tampering on PGlite', () => {
  tamperSuite(() => pgliteTestLog(db));
});
