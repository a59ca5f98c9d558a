import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTER_DIR } from '../src/index.ts';
import { runRegisterCli } from '../src/cli/register.ts';

const TEXTS = fileURLToPath(new URL('../src/register/notices/', import.meta.url));
const run = (...argv: string[]): { code: number; out: string[]; err: string[] } => {
  const out: string[] = [];
  const err: string[] = [];
  const code = runRegisterCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
};
const tmp = mkdtempSync(join(tmpdir(), 'sporbar-register-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const copyOfRegister = (name: string): string => {
  const dir = join(tmp, name);
  cpSync(REGISTER_DIR, dir, { recursive: true });
  return dir;
};

describe('sporbar-register validate', () => {
  it('accepts the package register, quotes checked against the notice texts', () => {
    const r = run('validate', REGISTER_DIR, '--texts', TEXTS);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([
      '✓ mitid/1.6.yaml (mitid 1.6, from 2024-01-01T00:00:00+01:00)',
      '✓ nemkonto/unnumbered.yaml (nemkonto (no version), from 2023-05-04T00:00:00+02:00)',
      '✓ 2 notice version(s) valid',
    ]);
    expect(r.code).toBe(0);
  });

  it('lists schema problems with file and place, and exits 1', () => {
    const dir = copyOfRegister('schema');
    const file = join(dir, 'mitid/1.6.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('role: CONTROLLER', 'role: OWNER'));
    const r = run('validate', dir);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^✗ mitid\/1\.6\.yaml#\/recipients\/\d+\/role: must be equal to one of the allowed values/);
  });

  it('reports a dangling reference in the register of a version and a quote that is not in the notice text', () => {
    const dir = copyOfRegister('semantic');
    const file = join(dir, 'nemkonto/unnumbered.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('recipientId: kmd', 'recipientId: kmd-two').replace('quote: Tax ID Number', 'quote: Tax ID Numeral'));
    const r = run('validate', dir, '--texts', TEXTS);
    expect(r.code).toBe(1);
    // NemKonto's file is broken, so is every register it is in force in: the one MitID 1.6 joins too.
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      expect.stringContaining('✗ mitid/1.6.yaml (mitid 1.6, from 2024-01-01T00:00:00+01:00): register of mitid/1.6.yaml, nemkonto/unnumbered.yaml has 2 issue(s)'),
      expect.stringContaining('✗ nemkonto/unnumbered.yaml (nemkonto (no version), from 2023-05-04T00:00:00+02:00): register of nemkonto/unnumbered.yaml has 2 issue(s)'),
    ]);
    expect(r.err[1]).toContain('recipient "kmd-two" is not defined in the register');

    writeFileSync(file, readFileSync(file, 'utf8').replace('recipientId: kmd-two', 'recipientId: kmd'));
    const quotes = run('validate', dir, '--texts', TEXTS);
    expect(quotes.err).toEqual([expect.stringMatching(/^✗ nemkonto\/unnumbered\.yaml .*: 1 quote\(s\) not in nemkonto\.txt: dataCategories\[\d+\]\.sources\[0\] "Tax ID Numeral"$/)]);
  });

  it("accepts a register with another authority's notice added as files only, its quotes checked against its own text", () => {
    const fixture = fileURLToPath(new URL('./fixtures/register-other-authority/', import.meta.url));
    const ownTexts = join(fixture, 'texts');
    const r = run('validate', fixture, '--texts', TEXTS, '--texts', ownTexts);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([
      '✓ eksempelby-borgerservice/1.0.yaml (eksempelby-borgerservice 1.0, from 2025-01-01T00:00:00+01:00)',
      '✓ mitid/1.6.yaml (mitid 1.6, from 2024-01-01T00:00:00+01:00)',
      '✓ nemkonto/unnumbered.yaml (nemkonto (no version), from 2023-05-04T00:00:00+02:00)',
      '✓ 3 notice version(s) valid',
    ]);
    expect(r.code).toBe(0);

    // Its text is looked for in every --texts directory; in none of them, the version fails.
    const missing = run('validate', fixture, '--texts', TEXTS);
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([expect.stringContaining(`✗ eksempelby-borgerservice/1.0.yaml (eksempelby-borgerservice 1.0, from 2025-01-01T00:00:00+01:00): notice text eksempelby-borgerservice-1.0.txt not found in ${TEXTS}`)]);

    // Its quotes are checked: one that is not in its text is reported.
    const dir = join(tmp, 'other-authority');
    cpSync(fixture, dir, { recursive: true });
    const file = join(dir, 'eksempelby-borgerservice/1.0.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('quote: Your booking is deleted 30 days after the appointment.', 'quote: Your booking is deleted 60 days after the appointment.'));
    const quote = run('validate', dir, '--texts', TEXTS, '--texts', ownTexts);
    expect(quote.code).toBe(1);
    expect(quote.err).toEqual([expect.stringMatching(/^✗ eksempelby-borgerservice\/1\.0\.yaml .*: 1 quote\(s\) not in eksempelby-borgerservice-1\.0\.txt: retentionRules\[\d+\]\.sources\[0\] "Your booking is deleted 60 days after the appointment\."$/)]);
  });

  it('runs as the installed command (the npm bin symlink), with its exit code', () => {
    // npm links node_modules/.bin/sporbar-register to src/cli/register.ts: started through the link, it must still run.
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const bin = fileURLToPath(new URL('../../node_modules/.bin/sporbar-register', import.meta.url));
    const ok = spawnSync(tsx, [bin, 'validate', REGISTER_DIR, '--texts', TEXTS], { encoding: 'utf8', timeout: 60_000 });
    expect(ok.stdout).toContain('✓ 2 notice version(s) valid');
    expect(ok.status).toBe(0);
    const nowhere = spawnSync(tsx, [bin, 'validate', join(tmp, 'nowhere')], { encoding: 'utf8', timeout: 60_000 });
    expect(nowhere.stderr).toContain('no such directory');
    expect(nowhere.status).toBe(1);
  });

  it('prints the usage and exits 2 for anything else', () => {
    expect(run().code).toBe(2);
    expect(run('check', 'a').err).toEqual(['usage: sporbar-register validate <dir> [--texts <dir>]...\n       sporbar-register diff <old dir> <new dir> [--json] [--exit-code]']);
    expect(run('validate', join(tmp, 'nowhere')).code).toBe(1);
  });
});
