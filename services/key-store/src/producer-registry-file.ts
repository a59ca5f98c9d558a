/** The producer registry as a file: the deployment's (SPORBAR_PRODUCER_REGISTRY) or the development one. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SporbarError } from '@sporbar/common/errors';
import { parseProducerRegistry, processingRegister, type ProcessingRegister, type ProducerRegistry, type RegisterFiles } from '@sporbar/schemas';

export const DEVELOPMENT_PRODUCER_REGISTRY_FILE = fileURLToPath(new URL('../dev/producers.development.json', import.meta.url));

/**
 * Reads and checks a registry file: activity ids against the processing register (default: the packaged
 * one's latest versions; pass the register files a program runs with to allow any of their versions' activities).
 */
export function loadProducerRegistryFile(path: string, register: ProcessingRegister | RegisterFiles = processingRegister): ProducerRegistry {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new SporbarError('SPB_ERR_CONFIG', `the producer registry ${path} cannot be read as JSON`, { cause });
  }
  return parseProducerRegistry(doc, register);
}

let development: ProducerRegistry | undefined;
/** The development registry (npm start, the tests): every key in it is public. */
export function developmentProducerRegistry(): ProducerRegistry {
  return (development ??= loadProducerRegistryFile(DEVELOPMENT_PRODUCER_REGISTRY_FILE));
}
