import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The package's import boundaries, read from its sources: a producer's subpaths never reach the key
 * table, and nothing here imports a database driver (the key table takes the caller's one-method SQL,
 * the migrations a `SqlClient`).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, string>;
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm;

/** Every module `entry` loads, relative to the package root, and every package it imports. */
function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    const rel = relative(root, file);
    if (files.has(rel)) return;
    files.add(rel);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) {
      const line = m[0];
      const spec = m[1]!;
      if (/^\s*(?:import|export)\s+type\s/.test(line)) continue; // erased at runtime
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(join(root, entry));
  return { files, packages };
}

describe('@sporbar/key-store import boundaries', () => {
  it.each(['./seal', './pseudonym', './routing', './hmac', './envelope', './producer-auth'])('%s (what a producer imports) reaches no key table, migration or SQL code', (subpath) => {
    const { files } = graph(exportsMap[subpath]!);
    expect([...files].filter((f) => /key-table|migrations|sql-clients/.test(f))).toEqual([]);
  });

  it.each(Object.keys(exportsMap))('%s imports no database driver at runtime', (subpath) => {
    const { packages } = graph(exportsMap[subpath]!);
    expect([...packages].filter((p) => p === 'pg' || p.startsWith('pg-') || p.startsWith('@electric-sql/'))).toEqual([]);
    for (const p of packages) expect(p.startsWith('node:') || ['@hpke/core', '@sporbar/schemas'].includes(p) || p.startsWith('@sporbar/common/')).toBe(true);
  });
});
