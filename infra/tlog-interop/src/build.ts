import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Debian's golang-golang-x-mod-dev puts the Go checksum database's code. */
export const DEBIAN_X_MOD = '/usr/share/gocode/src/golang.org/x/mod';
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const GO_DIR = join(PACKAGE_DIR, 'go');
/** Build output (git-ignored): the vendor tree and the binary. */
export const BUILD_DIR = join(PACKAGE_DIR, 'build');
export const TLOGCHECK = join(BUILD_DIR, 'tlogcheck');

export interface GoPrerequisites {
  readonly ok: boolean;
  readonly missing: string[];
}

/** Go and Debian's x/mod source, without which nothing can be built here (no module proxy). */
export function goPrerequisites(): GoPrerequisites {
  const missing: string[] = [];
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    missing.push('go (Debian package golang-go)');
  }
  if (!existsSync(join(DEBIAN_X_MOD, 'sumdb', 'note', 'note.go'))) missing.push(`${DEBIAN_X_MOD} (Debian package golang-golang-x-mod-dev)`);
  return { ok: missing.length === 0, missing };
}

function xModVersion(): string {
  // The module version Debian packaged, e.g. 0.7.0 (from its changelog-derived package version).
  try {
    const line = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-golang-x-mod-dev'], { encoding: 'utf8' });
    const m = /^(\d+\.\d+\.\d+)/.exec(line);
    if (m) return `v${m[1]}`;
  } catch {
    /* not a dpkg system: fall through */
  }
  return 'v0.7.0';
}

/**
 * Builds `tlogcheck` offline: a `vendor/` whose golang.org/x/mod is a link to Debian's source tree, the
 * go.mod's requirement set to the version Debian ships, `go build -mod=vendor` with no module proxy
 * (GOFLAGS=-mod=vendor, GOPROXY=off). Rebuilt when a .go file changed. Returns the binary's path.
 */
export function ensureTlogCheck(): string {
  const prereq = goPrerequisites();
  if (!prereq.ok) throw new Error(`cannot build the Go verifier: missing ${prereq.missing.join(', ')}`);
  // Every .go file of go/ (main.go and each mode's own file), in name order.
  const files = readdirSync(GO_DIR).filter((f) => f.endsWith('.go')).sort();
  const sources = files.map((f) => [f, readFileSync(join(GO_DIR, f), 'utf8')] as const);
  const source = sources.map(([f, text]) => `// ${f}\n${text}`).join('\n');
  const stamp = join(BUILD_DIR, 'main.go.built');
  if (existsSync(TLOGCHECK) && existsSync(stamp) && readFileSync(stamp, 'utf8') === source) return TLOGCHECK;
  const version = xModVersion();
  const work = join(BUILD_DIR, 'src');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'vendor', 'golang.org', 'x'), { recursive: true });
  for (const [f, text] of sources) writeFileSync(join(work, f), text);
  writeFileSync(join(work, 'go.mod'), readFileSync(join(GO_DIR, 'go.mod'), 'utf8').replace(/golang\.org\/x\/mod v[0-9.]+/, `golang.org/x/mod ${version}`));
  symlinkSync(DEBIAN_X_MOD, join(work, 'vendor', 'golang.org', 'x', 'mod'));
  writeFileSync(join(work, 'vendor', 'modules.txt'), `# golang.org/x/mod ${version}\n## explicit; go 1.17\ngolang.org/x/mod/sumdb/note\ngolang.org/x/mod/sumdb/tlog\n`);
  mkdirSync(dirname(TLOGCHECK), { recursive: true });
  execFileSync('go', ['build', '-mod=vendor', '-o', TLOGCHECK, '.'], {
    cwd: work,
    env: { ...process.env, GOFLAGS: '-mod=vendor', GOPROXY: 'off', GOSUMDB: 'off', GOTOOLCHAIN: 'local', GOCACHE: join(BUILD_DIR, 'gocache'), GOPATH: join(BUILD_DIR, 'gopath') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  writeFileSync(stamp, source);
  return TLOGCHECK;
}
