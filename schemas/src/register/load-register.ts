/**
 * Loading the register: the package's own from the generated bundle (`register/register.bundle.json`:
 * every file as parsed, with the SHA-256 of its bytes; JSON.parse only, no YAML and no ajv at load), or
 * any register directory's YAML files (`loadRegisterDir`, which imports the YAML + JSON Schema path,
 * `register-yaml.ts`, on demand). Either way: the layout checks (`checkRegisterDocs`) → composition of
 * the versions in force (`composeRegister`) → referential integrity (`validateRegister`).
 *
 * `checkRegisterDocs` and `registerOf`/`registerAt` are pure (values in, values out). The only file
 * reading is of the package's own files at load (the bundle, the JSON Schema) — the same pattern as the
 * Avro catalogue reading its own `.avsc` files — and of a directory a caller names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SporbarError } from '@sporbar/common/errors';
import { composeRegister, type NoticeVersionFile, type SharedFile } from './register-files.ts';
import { allSourceRefs, sourcePrefixes, validateRegister } from './validate-register.ts';
import type { ProcessingRegister, RegisterIssue, SourceRef } from './types.ts';

/** The package's register directory: shared.yaml, <notice>/<version>.yaml, register.schema.json and the bundle. */
export const REGISTER_DIR = fileURLToPath(new URL('../../register/', import.meta.url));
export const REGISTER_SCHEMA_FILE = 'register.schema.json';
export const REGISTER_BUNDLE_FILE = 'register.bundle.json';
export const SHARED_FILE = 'shared.yaml';
export const REGISTER_BUNDLE_FORMAT = 1;

/** The published JSON Schema of a notice-version file (`$defs.sharedFile`: the shared file). */
export const registerJsonSchema: Record<string, unknown> = JSON.parse(readFileSync(join(REGISTER_DIR, REGISTER_SCHEMA_FILE), 'utf8')) as Record<string, unknown>;

/** A notice-version file as read: its path (relative to the register directory) and parsed content. */
export interface NoticeVersion {
  readonly path: string;
  readonly file: NoticeVersionFile;
  /** Parsed `effective.from` / `effective.to` (to: +Infinity while in force). */
  readonly from: number;
  readonly to: number;
  /** SHA-256 (hex) of the file's bytes: the version's identity in RegisterPublished and in a classification. */
  readonly sha256: string;
}

export interface RegisterFiles {
  readonly shared: SharedFile;
  /** SHA-256 (hex) of shared.yaml's bytes. */
  readonly sharedSha256: string;
  /** Sorted by notice id, then by effective.from. */
  readonly versions: readonly NoticeVersion[];
}

/** One register file as parsed (already checked against the JSON Schema), with the SHA-256 of its bytes. */
export interface RegisterDoc {
  readonly path: string;
  readonly sha256: string;
  readonly content: unknown;
}

/** `register/register.bundle.json`: generated from the YAML files (`npm run register:bundle -w @sporbar/schemas`). */
export interface RegisterBundle {
  readonly format: typeof REGISTER_BUNDLE_FORMAT;
  readonly files: readonly RegisterDoc[];
}

export interface FileProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

export const registerInvalid = (message: string, problems: readonly FileProblem[]): SporbarError =>
  new SporbarError('SPB_ERR_REGISTER_INVALID', `${message}: ${problems.slice(0, 5).map((p) => `${p.file}${p.path}: ${p.message}`).join('; ')}`, {
    details: { problems: problems.map((p) => ({ ...p })) },
  });

/**
 * The checks beyond the JSON Schema, on parsed documents: the file layout (`<notice>/<name>.yaml` with
 * `notice` equal to the directory), effective periods that parse and do not run backwards, no two
 * versions of one notice overlapping, a shared file present. `sharedReported`: the shared file had a
 * problem already (do not also call it missing). Pure.
 */
export function checkRegisterDocs(docs: readonly RegisterDoc[], sharedReported = false): { files: RegisterFiles | null; problems: FileProblem[] } {
  const problems: FileProblem[] = [];
  let shared: { file: SharedFile; sha256: string } | null = null;
  const versions: NoticeVersion[] = [];
  for (const { path, sha256, content } of docs) {
    if (path === SHARED_FILE) {
      shared = { file: content as SharedFile, sha256 };
      continue;
    }
    const dir = path.split('/');
    if (dir.length !== 2 || !/\.ya?ml$/.test(path)) {
      problems.push({ file: path, path: '', message: 'a notice version lives in <notice>/<version>.yaml' });
      continue;
    }
    const file = content as NoticeVersionFile;
    if (file.notice !== dir[0]) problems.push({ file: path, path: '#/notice', message: `notice "${file.notice}" is filed under "${dir[0]}/"` });
    const from = Date.parse(file.effective.from);
    const to = file.effective.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(file.effective.to);
    if (Number.isNaN(from)) problems.push({ file: path, path: '#/effective/from', message: `"${file.effective.from}" is not a date-time` });
    if (Number.isNaN(to)) problems.push({ file: path, path: '#/effective/to', message: `"${String(file.effective.to)}" is not a date-time` });
    if (!(from < to)) problems.push({ file: path, path: '#/effective', message: 'the period ends before it starts' });
    versions.push({ path, file, from, to, sha256 });
  }
  if (shared === null && !sharedReported) problems.push({ file: SHARED_FILE, path: '', message: 'missing' });
  versions.sort((a, b) => (a.file.notice < b.file.notice ? -1 : a.file.notice > b.file.notice ? 1 : a.from - b.from));
  versions.forEach((v, i) => {
    const next = versions[i + 1];
    if (next !== undefined && next.file.notice === v.file.notice && next.from < v.to) {
      problems.push({ file: next.path, path: '#/effective/from', message: `overlaps ${v.path}, in force until ${v.file.effective.to ?? 'further notice'}` });
    }
  });
  return { files: shared === null || problems.length > 0 ? null : { shared: shared.file, sharedSha256: shared.sha256, versions }, problems };
}

/** The register files of a bundle (layout checks; the JSON Schema was checked when it was generated). Throws SPB_ERR_REGISTER_INVALID. Pure. */
export function registerFilesFromBundle(bundle: RegisterBundle): RegisterFiles {
  if (bundle.format !== REGISTER_BUNDLE_FORMAT || !Array.isArray(bundle.files)) {
    throw registerInvalid('not a register bundle', [{ file: REGISTER_BUNDLE_FILE, path: '#/format', message: `expected format ${REGISTER_BUNDLE_FORMAT}` }]);
  }
  const { files, problems } = checkRegisterDocs(bundle.files);
  if (files === null) throw registerInvalid(`register bundle has ${problems.length} problem(s)`, problems);
  return files;
}

/** Reads the package's generated bundle (JSON.parse; no YAML, no ajv). */
export function readRegisterBundle(path: string = join(REGISTER_DIR, REGISTER_BUNDLE_FILE)): RegisterFiles {
  return registerFilesFromBundle(JSON.parse(readFileSync(path, 'utf8')) as RegisterBundle);
}

/**
 * Reads and checks a register directory's YAML files (YAML, JSON Schema, layout), loading the YAML
 * path on demand; then composes and validates the register in force when each version takes effect,
 * so a directory that loads is one every instant can be classified by. Throws SPB_ERR_REGISTER_INVALID
 * with every problem (`details.problems`).
 */
export async function loadRegisterDir(dir: string): Promise<RegisterFiles> {
  const { checkRegisterFiles, readRegisterTexts } = await import('./register-yaml.ts');
  let texts;
  try {
    texts = readRegisterTexts(dir);
  } catch (e) {
    throw registerInvalid(`register directory ${dir} cannot be read`, [{ file: dir, path: '', message: (e as Error).message }]);
  }
  const { files, problems } = checkRegisterFiles(texts);
  if (files === null) throw registerInvalid(`register directory ${dir} has ${problems.length} problem(s)`, problems);
  const composed: FileProblem[] = [];
  for (const v of files.versions) {
    try {
      registerAt(files, new Date(v.from));
    } catch (e) {
      composed.push({ file: v.path, path: '', message: `the register in force from ${v.file.effective.from}: ${(e as Error).message}` });
    }
  }
  if (composed.length > 0) throw registerInvalid(`register directory ${dir} has ${composed.length} problem(s)`, composed);
  return files;
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

/** The version of one notice in force at an instant, if any. Pure. */
export function noticeVersionAt(files: RegisterFiles, noticeId: string, at: Date): NoticeVersion | undefined {
  const t = at.getTime();
  return files.versions.find((v) => v.file.notice === noticeId && v.from <= t && t < v.to);
}

/** The notice version whose file has this SHA-256, if any. */
export function noticeVersionByHash(files: RegisterFiles, sha256: string): NoticeVersion | undefined {
  return files.versions.find((v) => v.sha256 === sha256);
}

/**
 * The register files a program runs with: the packaged register (`packaged`, from the bundle) when `dir`
 * is undefined, else the directory's YAML files (`loadRegisterDir`). Fails closed: an unreadable or
 * invalid directory throws SPB_ERR_CONFIG naming SPORBAR_REGISTER_DIR and listing every problem.
 */
export async function registerSourceFrom(service: string, dir: string | undefined, packaged: () => RegisterFiles): Promise<RegisterFiles> {
  if (dir === undefined) return packaged();
  try {
    return await loadRegisterDir(dir);
  } catch (e) {
    if (!(e instanceof SporbarError) || e.code !== 'SPB_ERR_REGISTER_INVALID') throw e;
    const problems = ((e.details?.['problems'] as FileProblem[] | undefined) ?? [{ file: dir, path: '', message: e.message }]).map((p) => ({
      variable: 'SPORBAR_REGISTER_DIR', problem: `${p.file}${p.path}: ${p.message}`,
    }));
    throw new SporbarError('SPB_ERR_CONFIG', `${service} cannot start: the register directory ${dir} is invalid (${problems.length} problem(s)):\n${problems.map((p) => `  SPORBAR_REGISTER_DIR  ${p.problem}`).join('\n')}`, {
      cause: e, details: { service, problems },
    });
  }
}

/** How a version is named to people: 'MitID privacy notice version 1.6', 'NemKonto … (no version stated)'. */
export function describeNoticeVersion(v: Pick<NoticeVersion, 'file'>, lang: 'en' | 'da' = 'en'): string {
  const title = v.file.title[lang];
  if (v.file.version !== null) return `${title} ${lang === 'da' ? 'version' : 'version'} ${v.file.version}`;
  return `${title} (${lang === 'da' ? 'uden versionsnummer' : 'no version stated'})`;
}

/** Compares quotes with notice texts up to whitespace, apostrophe and quotation-mark style. */
export const normaliseNoticeText = (s: string): string => s.replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ').trim();

/** The sources of one notice (by the items its files gave) whose quote does not occur in the notice text. Pure. */
export function unquotedSources(reg: ProcessingRegister, noticeId: string, noticeText: string): { path: string; ref: SourceRef }[] {
  const prefix = sourcePrefixes(reg).get(noticeId) ?? null;
  const text = normaliseNoticeText(noticeText);
  return allSourceRefs(reg).filter(({ ref }) => prefix !== null && ref.source.startsWith(prefix) && !text.includes(normaliseNoticeText(ref.quote)));
}
