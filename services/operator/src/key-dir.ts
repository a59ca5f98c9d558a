/**
 * The key directory on disk: read it whole, create a file only if it does not exist (O_EXCL, mode
 * 0600), replace one atomically (rotation: a temporary file, fsync, rename). The directory is 0700.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Creates the directory (0700) if missing; an existing one must not be open to group or others. */
export function ensureKeyDir(dir: string): { created: boolean; problem?: string } {
  let created = false;
  try {
    statSync(dir);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    created = true;
  }
  const st = statSync(dir);
  if (!st.isDirectory()) return { created, problem: `${dir} is not a directory` };
  if ((st.mode & 0o077) !== 0) return { created, problem: `${dir} is open to group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 700 it` };
  return { created };
}

/** The directory's files that group or others may read or write: a key directory is the owner's alone. */
export function openFiles(dir: string): Array<{ name: string; mode: number }> {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, mode: statSync(join(dir, e.name)).mode & 0o777 }))
    .filter((f) => (f.mode & 0o077) !== 0);
}

/** Every regular file of the directory: name → content. */
export function readKeyDir(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile() && !e.name.endsWith('.tmp')) files.set(e.name, readFileSync(join(dir, e.name), 'utf8'));
  return files;
}

function writeAndSync(fd: number, content: string): void {
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `name` with `content`, mode 0600; never overwrites (EEXIST is thrown). */
export function createFile(dir: string, name: string, content: string): void {
  writeAndSync(openSync(join(dir, name), 'wx', 0o600), content);
}

/** Replaces (or creates) `name` atomically, mode 0600: a reader sees the old or the new content, never a part. */
export function replaceFile(dir: string, name: string, content: string): void {
  const tmp = join(dir, `${name}.${process.pid}.tmp`);
  writeAndSync(openSync(tmp, 'w', 0o600), content);
  renameSync(tmp, join(dir, name));
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}
