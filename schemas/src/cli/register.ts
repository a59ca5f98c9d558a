#!/usr/bin/env -S npx tsx
// `sporbar-register validate <dir> [--texts <dir>]`: checks a register directory (shared.yaml and
// <notice>/<version>.yaml) the way the loader does — YAML, the JSON Schema, the file layout, overlapping
// effective periods, the composition and referential integrity of the register in force when each
// version takes effect — and, with --texts, that every quote occurs in its notice text. --texts may be given
// more than once (the packaged texts and a deployment's own, e.g. a new authority's notice): a version's
// `textFile` is read from the first directory that has it. It also refuses a register that uses a code
// (role, safeguard, right, consent scope, country) without words, or a text without its Danish or English.
// Exit code 0: valid; 1: problems (listed on stderr); 2: usage.
//
// `sporbar-register diff <old dir> <new dir> [--json] [--exit-code]`: what changed between two register
// directories, notice by notice and version by version, in plain sentences (or JSON for tools); see
// src/register/diff.ts. Exit code 0 (differences printed), 1 with --exit-code when they differ (like
// git diff), 2 usage or a directory that does not load (its problems on stderr).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isSporbarError } from '@sporbar/common/errors';
import { isMainModule } from '@sporbar/common/main-module';
import { registerAt, unquotedSources, type RegisterFiles } from '../register/load-register.ts';
import { checkRegisterFiles, readRegisterTexts } from '../register/register-yaml.ts';
import { diffRegisters, formatRegisterDiff } from '../register/diff.ts';
import { registerWordIssues } from '../register/words.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = 'usage: sporbar-register validate <dir> [--texts <dir>]...\n       sporbar-register diff <old dir> <new dir> [--json] [--exit-code]';

/** Reads and checks a register directory for diff; null (problems on stderr) when it does not load. */
function loadForDiff(dir: string, io: CliIo): RegisterFiles | null {
  if (!existsSync(dir)) {
    io.err(`✗ ${dir}: no such directory`);
    return null;
  }
  const { files, problems } = checkRegisterFiles(readRegisterTexts(resolve(dir)));
  for (const p of problems) io.err(`✗ ${dir}: ${p.file}${p.path}: ${p.message}`);
  return files;
}

function runDiff(oldDir: string, newDir: string, options: { json: boolean; exitCode: boolean }, io: CliIo): number {
  const oldFiles = loadForDiff(oldDir, io);
  const newFiles = loadForDiff(newDir, io);
  if (oldFiles === null || newFiles === null) return 2;
  let d;
  try {
    d = diffRegisters(oldFiles, newFiles);
  } catch (e) {
    io.err(`✗ ${isSporbarError(e) || e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (options.json) io.out(JSON.stringify({ old: oldDir, new: newDir, ...d }, null, 2));
  else for (const line of formatRegisterDiff(d, { old: oldDir, new: newDir })) io.out(line);
  return options.exitCode && !d.same ? 1 : 0;
}

export function runRegisterCli(argv: readonly string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { texts: { type: 'string', multiple: true }, json: { type: 'boolean' }, 'exit-code': { type: 'boolean' } } });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, dir, ...rest] = parsed.positionals;
  if (command === 'diff') {
    if (dir === undefined || rest.length !== 1 || parsed.values.texts !== undefined) {
      io.err(USAGE);
      return 2;
    }
    return runDiff(dir, rest[0]!, { json: parsed.values.json === true, exitCode: parsed.values['exit-code'] === true }, io);
  }
  if (parsed.values.json !== undefined || parsed.values['exit-code'] !== undefined) {
    io.err(USAGE);
    return 2;
  }
  if (command !== 'validate' || dir === undefined || rest.length > 0) {
    io.err(USAGE);
    return 2;
  }
  if (!existsSync(dir)) {
    io.err(`✗ ${dir}: no such directory`);
    return 1;
  }
  const { files, problems } = checkRegisterFiles(readRegisterTexts(resolve(dir)));
  for (const p of problems) io.err(`✗ ${p.file}${p.path}: ${p.message}`);
  if (files === null) return 1;
  // Every term a citizen can meet needs its words in Danish and English (the citizen page shows no codes).
  const words = registerWordIssues(files);
  for (const p of words) io.err(`✗ ${p.file}${p.path}: ${p.message}`);

  const textDirs = parsed.values.texts ?? [];
  let failed = false;
  for (const v of files.versions) {
    const label = `${v.path} (${v.file.notice} ${v.file.version ?? '(no version)'}, from ${v.file.effective.from}${v.file.effective.to ? ` to ${v.file.effective.to}` : ''})`;
    try {
      const reg = registerAt(files, new Date(v.from));
      if (textDirs.length > 0) {
        const path = textDirs.map((d) => join(d, v.file.textFile)).find((p) => existsSync(p));
        if (path === undefined) throw new Error(`notice text ${v.file.textFile} not found in ${textDirs.join(', ')}`);
        const missing = unquotedSources(reg, v.file.notice, readFileSync(path, 'utf8'));
        if (missing.length > 0) throw new Error(`${missing.length} quote(s) not in ${v.file.textFile}: ${missing.slice(0, 3).map((m) => `${m.path} "${m.ref.quote}"`).join('; ')}`);
      }
      io.out(`✓ ${label}`);
    } catch (e) {
      failed = true;
      io.err(`✗ ${label}: ${isSporbarError(e) || e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed || words.length > 0) return 1;
  io.out(`✓ ${files.versions.length} notice version(s) valid`);
  return 0;
}

if (isMainModule(import.meta.url)) {
  process.exit(runRegisterCli(process.argv.slice(2)));
}
