#!/usr/bin/env -S npx tsx
// `sporbar-register validate <dir> [--texts <dir>]`: checks a register directory (shared.yaml and
// <notice>/<version>.yaml) the way the loader does — YAML, the JSON Schema, the file layout, overlapping
// effective periods, the composition and referential integrity of the register in force when each
// version takes effect — and, with --texts, that every quote occurs in its notice text.
// Exit code 0: valid; 1: problems (listed on stderr); 2: usage.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isSporbarError } from '@sporbar/common/errors';
import { registerAt, unquotedSources } from '../register/load-register.ts';
import { checkRegisterFiles, readRegisterTexts } from '../register/register-yaml.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = 'usage: sporbar-register validate <dir> [--texts <dir>]';

export function runRegisterCli(argv: readonly string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { texts: { type: 'string' } } });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, dir, ...rest] = parsed.positionals;
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

  let failed = false;
  for (const v of files.versions) {
    const label = `${v.path} (${v.file.notice} ${v.file.version ?? '(no version)'}, from ${v.file.effective.from}${v.file.effective.to ? ` to ${v.file.effective.to}` : ''})`;
    try {
      const reg = registerAt(files, new Date(v.from));
      if (parsed.values.texts !== undefined) {
        const path = join(parsed.values.texts, v.file.textFile);
        if (!existsSync(path)) throw new Error(`notice text ${path} not found`);
        const missing = unquotedSources(reg, v.file.notice, readFileSync(path, 'utf8'));
        if (missing.length > 0) throw new Error(`${missing.length} quote(s) not in ${v.file.textFile}: ${missing.slice(0, 3).map((m) => `${m.path} "${m.ref.quote}"`).join('; ')}`);
      }
      io.out(`✓ ${label}`);
    } catch (e) {
      failed = true;
      io.err(`✗ ${label}: ${isSporbarError(e) || e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed) return 1;
  io.out(`✓ ${files.versions.length} notice version(s) valid`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exit(runRegisterCli(process.argv.slice(2)));
}
