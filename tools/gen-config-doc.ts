// Rewrites the README's configuration table from the services' declarations: `npx tsx tools/gen-config-doc.ts`.
// A test (services/embedded/test/config-doc.unit.test.ts) fails when the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { README, withConfigTable } from './config-doc.ts';

writeFileSync(README, withConfigTable(readFileSync(README, 'utf8')));
