// `npm run schemas:check`: fails the build when a schema version is not readable by the next one
// (or the next by it), or when src/generated/events.ts is stale.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkCompatibility } from '../avro/compatibility.ts';
import { fingerprintHex } from '../avro/crc64-avro.ts';
import { generateEventTypes } from '../avro/generate-types.ts';
import { loadSchemaCatalogue } from '../avro/schema-catalogue.ts';

const catalogue = loadSchemaCatalogue();
const problems = checkCompatibility(catalogue);
for (const p of problems) console.error(`✗ ${p.eventType} v${p.from} → v${p.to} (${p.direction}): ${p.reason}`);

const generated = fileURLToPath(new URL('../generated/events.ts', import.meta.url));
const stale = readFileSync(generated, 'utf8') !== generateEventTypes(catalogue);
if (stale) console.error('✗ src/generated/events.ts is stale: run npm run schemas:gen');

for (const t of catalogue.eventTypes) {
  const versions = catalogue.versions(t);
  console.log(`${t}: ${versions.map((v) => `v${v.version} ${fingerprintHex(v.fingerprint)}`).join(', ')}`);
}
if (problems.length > 0 || stale) process.exit(1);
console.log(`✓ ${catalogue.eventTypes.length} event types: every version readable by its neighbours`);
