/** `sporbar keys init <dir>`: the plan (deployment.ts) carried out on disk. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configError, type ConfigProblem } from '@sporbar/common/config';
import { generateSealKeyPair } from '@sporbar/key-store/seal';
import { newAccessTokenKeyPem, newCheckpointKeyPem, parseProducerTemplate, planKeyDir, randomSecret, type Generators, type ProducerTemplateEntry } from './deployment.ts';
import { createFile, ensureKeyDir, openFiles, readKeyDir } from './key-dir.ts';

export const DEFAULT_TEMPLATE_FILE = fileURLToPath(new URL('../templates/producers.json', import.meta.url));

export const generators: Generators = {
  sealKey: async () => (await generateSealKeyPair()).privateKey,
  secret: randomSecret,
  checkpointKey: newCheckpointKeyPem,
  accessTokenKey: newAccessTokenKeyPem,
};

export interface InitResult {
  readonly dir: string;
  readonly created: readonly string[];
  readonly kept: readonly string[];
  readonly sealPublicKey: string;
  readonly checkpoint: { readonly pem: string; readonly raw: string; readonly keyId: string };
}

function readTemplate(file: string, problems: ConfigProblem[]): ProducerTemplateEntry[] {
  try {
    return parseProducerTemplate(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    problems.push({ variable: '--producers', problem: `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return [];
  }
}

/** Creates what is missing in `dir`; every problem at once in one SPB_ERR_CONFIG, and then nothing is written. */
export async function keysInit(dirArg: string, options: { producers?: string } = {}): Promise<InitResult> {
  const dir = resolve(dirArg);
  const problems: ConfigProblem[] = [];
  const template = readTemplate(options.producers ?? DEFAULT_TEMPLATE_FILE, problems);
  if (problems.length > 0) throw configError('sporbar keys init', problems);
  const d = ensureKeyDir(dir);
  if (d.problem) throw configError('sporbar keys init', [{ variable: '<dir>', problem: d.problem }]);
  const open = openFiles(dir);
  if (open.length > 0) throw configError('sporbar keys init', open.map((f) => ({ variable: f.name, problem: `is open to group or others (mode ${f.mode.toString(8)}): chmod 600 it` })));
  const plan = await planKeyDir(dir, readKeyDir(dir), template, generators);
  if (plan.problems.length > 0 || !plan.publics) throw configError('sporbar keys init', plan.problems);
  for (const f of plan.create) createFile(dir, f.name, f.content);
  return { dir, created: plan.create.map((f) => f.name), kept: plan.kept, ...plan.publics };
}

/** What `keys init` prints: the public parts and which files it created or kept. */
export function formatInit(r: InitResult): string {
  const list = (names: readonly string[]) => (names.length ? names.join(' ') : '(none)');
  return [
    `key directory: ${r.dir}`,
    `created: ${list(r.created)}`,
    `kept: ${list(r.kept)}`,
    '',
    `seal public key (SPORBAR_SEAL_PUBLIC_KEY, for every producer; also ${r.dir}/seal.pub): ${r.sealPublicKey}`,
    `checkpoint key id: ${r.checkpoint.keyId}`,
    `checkpoint public key (raw Ed25519, base64url, for witnesses): ${r.checkpoint.raw}`,
    `checkpoint public key (SPKI PEM, SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE of the auditor: ${r.dir}/checkpoint.pub.pem):`,
    r.checkpoint.pem.trimEnd(),
    '',
    `next: npx tsx infra/kafka/src/cli.ts provision ${r.dir}/kafka-principals.json --name <broker>`,
    '',
  ].join('\n');
}
