/** `sporbar keys init <dir>`: the plan (deployment.ts) carried out on disk. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configError, type ConfigProblem } from '@sporbar/common/config';
import { isSporbarError } from '@sporbar/common/errors';
import { loadRegisterSource, type RegisterFiles } from '@sporbar/schemas';
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

function readTemplate(file: string, register: RegisterFiles, problems: ConfigProblem[]): ProducerTemplateEntry[] {
  try {
    return parseProducerTemplate(JSON.parse(readFileSync(file, 'utf8')), register);
  } catch (err) {
    problems.push({ variable: '--producers', problem: `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return [];
  }
}

/**
 * The register the producers' activity ids are checked against: `--register-dir` (a register directory
 * with another authority's notice, as the programs' SPORBAR_REGISTER_DIR) or the packaged register.
 */
async function readRegister(dir: string | undefined, problems: ConfigProblem[]): Promise<RegisterFiles | undefined> {
  try {
    return await loadRegisterSource('sporbar keys init', dir === undefined ? undefined : resolve(dir));
  } catch (err) {
    if (!isSporbarError(err, 'SPB_ERR_CONFIG')) throw err;
    const listed = (err.details['problems'] as ConfigProblem[] | undefined) ?? [{ variable: 'SPORBAR_REGISTER_DIR', problem: err.message }];
    problems.push(...listed.map((p) => ({ variable: '--register-dir', problem: p.problem })));
    return undefined;
  }
}

/**
 * Creates what is missing in `dir`; every problem at once in one SPB_ERR_CONFIG, and then nothing is written.
 * `registerDir`: the register directory the deployment runs with (its programs' SPORBAR_REGISTER_DIR), so the
 * template may allow the activities of a notice added as files only.
 */
export async function keysInit(dirArg: string, options: { producers?: string; registerDir?: string } = {}): Promise<InitResult> {
  const dir = resolve(dirArg);
  const problems: ConfigProblem[] = [];
  const register = await readRegister(options.registerDir, problems);
  if (!register) throw configError('sporbar keys init', problems);
  const template = readTemplate(options.producers ?? DEFAULT_TEMPLATE_FILE, register, problems);
  if (problems.length > 0) throw configError('sporbar keys init', problems);
  const d = ensureKeyDir(dir);
  if (d.problem) throw configError('sporbar keys init', [{ variable: '<dir>', problem: d.problem }]);
  const open = openFiles(dir);
  if (open.length > 0) throw configError('sporbar keys init', open.map((f) => ({ variable: f.name, problem: `is open to group or others (mode ${f.mode.toString(8)}): chmod 600 it` })));
  const plan = await planKeyDir(dir, readKeyDir(dir), template, generators, register);
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
