/**
 * Fills in the development producer registry's keys (services/key-store/dev/producers.development.json)
 * from the development key derivation (developmentProducerKey): each producer keeps its key ids and
 * algorithms (default one hmac-sha256 key `dev1`). A unit test keeps the file and the derivation equal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE, developmentCredential } from '../services/key-store/src/index.ts';
import type { ProducerKeyAlgorithm } from '../schemas/src/index.ts';

interface Entry { id: string; keys: Array<{ keyId: string; algorithm: ProducerKeyAlgorithm }> }
const doc = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as { producers: Entry[] };
for (const p of doc.producers) {
  const keys = p.keys.length > 0 ? p.keys : [{ keyId: 'dev1', algorithm: 'hmac-sha256' as const }];
  p.keys = keys.map((k) => developmentCredential(p.id, k.algorithm, k.keyId));
}
const lines = JSON.stringify(doc, null, 2).split('\n');
writeFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, `${lines.join('\n')}\n`);
console.log(`wrote ${DEVELOPMENT_PRODUCER_REGISTRY_FILE}: ${doc.producers.length} producers`);
