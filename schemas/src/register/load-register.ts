/**
 * Loading the register's data files (schemas/register/): YAML → JSON Schema (ajv, draft 2020-12) →
 * composition (`composeRegister`) → referential integrity (`validateRegister`).
 *
 * `parseRegisterFiles` and `registerFromFiles`/`registerAt` are pure (texts in, values out). The only
 * file reading is `readRegisterDir`, with node:fs, of the package's own data files — the same pattern as
 * the Avro catalogue reading its own `.avsc` files at load.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { SporbarError } from '@sporbar/common/errors';
import { composeRegister, type NoticeVersionFile, type SharedFile } from './register-files.ts';
import { allSourceRefs, validateRegister } from './validate-register.ts';
import type { ProcessingRegister, RegisterIssue, SourceRef } from './types.ts';

/** The package's register directory: shared.yaml, <notice>/<version>.yaml and register.schema.json. */
export const REGISTER_DIR = fileURLToPath(new URL('../../register/', import.meta.url));
export const REGISTER_SCHEMA_FILE = 'register.schema.json';
export const SHARED_FILE = 'shared.yaml';

/** The published JSON Schema of a notice-version file (`$defs.sharedFile`: the shared file). */
export const registerJsonSchema: Record<string, unknown> = JSON.parse(readFileSync(join(REGISTER_DIR, REGISTER_SCHEMA_FILE), 'utf8')) as Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
ajv.addSchema(registerJsonSchema);
const SCHEMA_ID = registerJsonSchema.$id as string;
const validators = {
  notice: ajv.getSchema(SCHEMA_ID) as ValidateFunction,
  shared: ajv.getSchema(`${SCHEMA_ID}#/$defs/sharedFile`) as ValidateFunction,
};

/** A notice-version file as read: its path (relative to the register directory) and parsed content. */
export interface NoticeVersion {
  readonly path: string;
  readonly file: NoticeVersionFile;
  /** Parsed `effective.from` / `effective.to` (to: +Infinity while in force). */
  readonly from: number;
  readonly to: number;
}

export interface RegisterFiles {
  readonly shared: SharedFile;
  /** Sorted by notice id, then by effective.from. */
  readonly versions: readonly NoticeVersion[];
}

/** A file's text, its path relative to the register directory (e.g. 'mitid/1.6.yaml' or 'shared.yaml'). */
export interface RegisterFileText {
  readonly path: string;
  readonly text: string;
}

export interface FileProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

const invalid = (message: string, problems: readonly FileProblem[]): SporbarError =>
  new SporbarError('SPB_ERR_REGISTER_INVALID', `${message}: ${problems.slice(0, 5).map((p) => `${p.file}${p.path}: ${p.message}`).join('; ')}`, {
    details: { problems: problems.map((p) => ({ ...p })) },
  });

const schemaProblems = (file: string, errors: readonly ErrorObject[] | null | undefined): FileProblem[] =>
  (errors ?? []).map((e) => ({ file, path: e.instancePath === '' ? '' : `#${e.instancePath}`, message: `${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}` }));

/**
 * Every problem in a set of register file texts, without throwing: YAML syntax, the JSON Schema, the
 * file layout (`<notice>/<name>.yaml` with `notice` equal to the directory), overlapping effective
 * periods of one notice. Pure.
 */
export function checkRegisterFiles(texts: readonly RegisterFileText[]): { files: RegisterFiles | null; problems: FileProblem[] } {
  const problems: FileProblem[] = [];
  let shared: SharedFile | null = null;
  const versions: NoticeVersion[] = [];
  for (const { path, text } of texts) {
    let doc: unknown;
    try {
      doc = parseYaml(text, { prettyErrors: false });
    } catch (e) {
      problems.push({ file: path, path: '', message: `not YAML: ${(e as Error).message.split('\n')[0]}` });
      continue;
    }
    if (path === SHARED_FILE) {
      if (validators.shared(doc)) shared = doc as SharedFile;
      else problems.push(...schemaProblems(path, validators.shared.errors));
      continue;
    }
    const dir = path.split('/');
    if (dir.length !== 2 || !/\.ya?ml$/.test(path)) {
      problems.push({ file: path, path: '', message: 'a notice version lives in <notice>/<version>.yaml' });
      continue;
    }
    if (!validators.notice(doc)) {
      problems.push(...schemaProblems(path, validators.notice.errors));
      continue;
    }
    const file = doc as NoticeVersionFile;
    if (file.notice !== dir[0]) problems.push({ file: path, path: '#/notice', message: `notice "${file.notice}" is filed under "${dir[0]}/"` });
    const from = Date.parse(file.effective.from);
    const to = file.effective.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(file.effective.to);
    if (Number.isNaN(from)) problems.push({ file: path, path: '#/effective/from', message: `"${file.effective.from}" is not a date-time` });
    if (Number.isNaN(to)) problems.push({ file: path, path: '#/effective/to', message: `"${String(file.effective.to)}" is not a date-time` });
    if (!(from < to)) problems.push({ file: path, path: '#/effective', message: 'the period ends before it starts' });
    versions.push({ path, file, from, to });
  }
  if (shared === null && !problems.some((p) => p.file === SHARED_FILE)) problems.push({ file: SHARED_FILE, path: '', message: 'missing' });
  versions.sort((a, b) => (a.file.notice < b.file.notice ? -1 : a.file.notice > b.file.notice ? 1 : a.from - b.from));
  versions.forEach((v, i) => {
    const next = versions[i + 1];
    if (next !== undefined && next.file.notice === v.file.notice && next.from < v.to) {
      problems.push({ file: next.path, path: '#/effective/from', message: `overlaps ${v.path}, in force until ${v.file.effective.to ?? 'further notice'}` });
    }
  });
  return { files: shared === null || problems.length > 0 ? null : { shared, versions }, problems };
}

/** Parses and schema-checks register file texts; throws SPB_ERR_REGISTER_INVALID listing the problems. Pure. */
export function parseRegisterFiles(texts: readonly RegisterFileText[]): RegisterFiles {
  const { files, problems } = checkRegisterFiles(texts);
  if (files === null) throw invalid(`register files have ${problems.length} problem(s)`, problems);
  return files;
}

/** Reads every register file under `dir` (shared.yaml and <notice>/<version>.yaml; not the schema). */
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

/** Reads and parses the register files under `dir` (default: the package's own). */
export function readRegisterDir(dir: string = REGISTER_DIR): RegisterFiles {
  return parseRegisterFiles(readRegisterTexts(dir));
}

const assertComposed = (reg: ProcessingRegister, what: string): ProcessingRegister => {
  const issues: RegisterIssue[] = validateRegister(reg);
  if (issues.length > 0) {
    throw new SporbarError('SPB_ERR_REGISTER_INVALID', `${what} has ${issues.length} issue(s): ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: { issues: issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) },
    });
  }
  return reg;
};

/** The composed, validated register of the given notice versions (at most one per notice). Pure. */
export function registerOf(files: RegisterFiles, versions: readonly NoticeVersion[]): ProcessingRegister {
  const ordered = [...versions].sort((a, b) => (a.file.notice < b.file.notice ? -1 : a.file.notice > b.file.notice ? 1 : 0));
  return assertComposed(composeRegister(files.shared, ordered.map((v) => v.file)), `register of ${ordered.map((v) => v.path).join(', ') || 'no notice'}`);
}

/** The latest version of each notice (the greatest effective.from), whether or not its period has begun. */
export function latestVersions(files: RegisterFiles): NoticeVersion[] {
  const latest = new Map<string, NoticeVersion>();
  for (const v of files.versions) latest.set(v.file.notice, v); // versions are sorted by from
  return [...latest.values()];
}

/** The version of each notice whose effective period [from, to) contains the instant; notices with none are left out. Pure. */
export function versionsInForce(files: RegisterFiles, at: Date): NoticeVersion[] {
  const t = at.getTime();
  return files.versions.filter((v) => v.from <= t && t < v.to);
}

/**
 * The register in force at an instant: the notice versions whose effective periods contain it, composed
 * and validated. Pure (memoised per set of versions, so repeated look-ups are cheap).
 */
export function registerAt(files: RegisterFiles, at: Date): ProcessingRegister {
  const versions = versionsInForce(files, at);
  const key = versions.map((v) => v.path).join('\n');
  let byKey = memo.get(files);
  if (byKey === undefined) { byKey = new Map(); memo.set(files, byKey); }
  let reg = byKey.get(key);
  if (reg === undefined) { reg = registerOf(files, versions); byKey.set(key, reg); }
  return reg;
}
const memo = new WeakMap<RegisterFiles, Map<string, ProcessingRegister>>();

/** Compares quotes with notice texts up to whitespace, apostrophe and quotation-mark style. */
export const normaliseNoticeText = (s: string): string => s.replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ').trim();

/** The sources of one notice (by the items its files gave) whose quote does not occur in the notice text. Pure. */
export function unquotedSources(reg: ProcessingRegister, noticeId: string, noticeText: string): { path: string; ref: SourceRef }[] {
  const notice = reg.notices.find((n) => n.id === noticeId);
  const prefix = notice === undefined ? null : sourcePrefixOf(reg, noticeId);
  const text = normaliseNoticeText(noticeText);
  return allSourceRefs(reg).filter(({ ref }) => prefix !== null && ref.source.startsWith(prefix) && !text.includes(normaliseNoticeText(ref.quote)));
}

/** The source-reference prefix of a notice ('MitID ' or 'NemKonto: '), read off the notice's own sources. */
function sourcePrefixOf(reg: ProcessingRegister, noticeId: string): string | null {
  const first = reg.notices.find((n) => n.id === noticeId)?.sources[0]?.source;
  const m = first === undefined ? null : /^(.*?(?::\s|\s))/.exec(first);
  return m?.[1] ?? null;
}
