/**
 * The register's YAML path: reading `<dir>/shared.yaml` and `<dir>/<notice>/<version>.yaml`, parsing the
 * YAML and checking every file against the published JSON Schema (ajv, draft 2020-12), then the layout
 * checks every loader shares (`checkRegisterDocs`). It costs ~0.6 s of CPU to load (the `yaml` and `ajv`
 * modules and the schema's compilation), so only the CLI (`sporbar-register`), the bundle generator
 * (`npm run register:bundle`), the tests and a service given another register directory
 * (`loadRegisterDir`, imported on demand) load it; the package entry point reads the generated bundle
 * (`register/register.bundle.json`) instead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import {
  REGISTER_BUNDLE_FORMAT,
  REGISTER_DIR,
  SHARED_FILE,
  checkRegisterDocs,
  registerInvalid,
  registerJsonSchema,
  type FileProblem,
  type RegisterBundle,
  type RegisterDoc,
  type RegisterFiles,
} from './load-register.ts';

/** A file's text, its path relative to the register directory (e.g. 'mitid/1.6.yaml' or 'shared.yaml'). */
export interface RegisterFileText {
  readonly path: string;
  readonly text: string;
}

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
ajv.addSchema(registerJsonSchema);
const SCHEMA_ID = registerJsonSchema.$id as string;
const validators = {
  notice: ajv.getSchema(SCHEMA_ID) as ValidateFunction,
  shared: ajv.getSchema(`${SCHEMA_ID}#/$defs/sharedFile`) as ValidateFunction,
};

const schemaProblems = (file: string, errors: readonly ErrorObject[] | null | undefined): FileProblem[] =>
  (errors ?? []).map((e) => ({ file, path: e.instancePath === '' ? '' : `#${e.instancePath}`, message: `${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}` }));

/** SHA-256 (hex) of a file's bytes: what RegisterPublished names and the classification refers to. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** YAML → the JSON Schema: the documents that pass, each with its content hash, and every problem. Pure. */
function parseDocs(texts: readonly RegisterFileText[]): { docs: RegisterDoc[]; problems: FileProblem[] } {
  const problems: FileProblem[] = [];
  const docs: RegisterDoc[] = [];
  for (const { path, text } of texts) {
    let doc: unknown;
    try {
      doc = parseYaml(text, { prettyErrors: false });
    } catch (e) {
      problems.push({ file: path, path: '', message: `not YAML: ${(e as Error).message.split('\n')[0]}` });
      continue;
    }
    const validate = path === SHARED_FILE ? validators.shared : validators.notice;
    // A file outside <notice>/<version>.yaml is a layout problem (checkRegisterDocs), not a schema one.
    if (path !== SHARED_FILE && (path.split('/').length !== 2 || !/\.ya?ml$/.test(path))) {
      docs.push({ path, sha256: sha256Hex(text), content: doc });
      continue;
    }
    if (validate(doc)) docs.push({ path, sha256: sha256Hex(text), content: doc });
    else problems.push(...schemaProblems(path, validate.errors));
  }
  return { docs, problems };
}

/**
 * Every problem in a set of register file texts, without throwing: YAML syntax, the JSON Schema, the
 * file layout (`<notice>/<name>.yaml` with `notice` equal to the directory), overlapping effective
 * periods of one notice. Pure.
 */
export function checkRegisterFiles(texts: readonly RegisterFileText[]): { files: RegisterFiles | null; problems: FileProblem[] } {
  const parsed = parseDocs(texts);
  const checked = checkRegisterDocs(parsed.docs, parsed.problems.some((p) => p.file === SHARED_FILE));
  const problems = [...parsed.problems, ...checked.problems];
  return { files: problems.length > 0 ? null : checked.files, problems };
}

/** Parses and schema-checks register file texts; throws SPB_ERR_REGISTER_INVALID listing the problems. Pure. */
export function parseRegisterFiles(texts: readonly RegisterFileText[]): RegisterFiles {
  const { files, problems } = checkRegisterFiles(texts);
  if (files === null) throw registerInvalid(`register files have ${problems.length} problem(s)`, problems);
  return files;
}

/** Reads every register file under `dir` (shared.yaml and <notice>/<version>.yaml; not the schema, not the bundle). */
export function readRegisterTexts(dir: string = REGISTER_DIR): RegisterFileText[] {
  const out: RegisterFileText[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) out.push({ path: relative(dir, full).split('\\').join('/'), text: readFileSync(full, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

/** Reads, parses and schema-checks the register files under `dir` (default: the package's own). */
export function readRegisterDir(dir: string = REGISTER_DIR): RegisterFiles {
  return parseRegisterFiles(readRegisterTexts(dir));
}

/**
 * The bundle of a register directory: every file as parsed (schema-checked), with the SHA-256 of its
 * bytes, in path order. Throws SPB_ERR_REGISTER_INVALID when a file has a problem. Pure.
 */
export function buildRegisterBundle(texts: readonly RegisterFileText[]): RegisterBundle {
  const { docs, problems } = parseDocs(texts);
  const all = [...problems, ...checkRegisterDocs(docs, problems.some((p) => p.file === SHARED_FILE)).problems];
  if (all.length > 0) throw registerInvalid(`register files have ${all.length} problem(s)`, all);
  return { format: REGISTER_BUNDLE_FORMAT, files: [...docs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** The bundle file's text: stable JSON, one trailing newline (what `npm run register:bundle` writes). */
export const registerBundleText = (bundle: RegisterBundle): string => `${JSON.stringify(bundle, null, 1)}\n`;
