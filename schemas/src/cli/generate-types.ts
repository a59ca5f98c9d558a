// Writes src/generated/events.ts from the current .avsc files: `npm run schemas:gen`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateEventTypes } from '../avro/generate-types.ts';
import { loadSchemaCatalogue } from '../avro/schema-catalogue.ts';

export const GENERATED_FILE = fileURLToPath(new URL('../generated/events.ts', import.meta.url));

writeFileSync(GENERATED_FILE, generateEventTypes(loadSchemaCatalogue()));
console.log(`wrote ${GENERATED_FILE}`);
