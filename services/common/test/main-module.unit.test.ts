import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isMainModule } from '../src/main-module.ts';

describe('isMainModule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-main-'));
  const file = join(dir, 'cli.ts');
  writeFileSync(file, '');
  const link = join(dir, 'bin-link');
  symlinkSync(file, link);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is the program when started by its own path', () => {
    expect(isMainModule(pathToFileURL(file).href, file)).toBe(true);
  });

  it("is the program when started through npm's bin link (the link resolved)", () => {
    expect(isMainModule(pathToFileURL(file).href, link)).toBe(true);
  });

  it('is not the program when another file was started, none was, or the path does not exist', () => {
    expect(isMainModule(pathToFileURL(file).href, join(dir, 'other.ts'))).toBe(false);
    expect(isMainModule(pathToFileURL(file).href, undefined)).toBe(false);
  });
});
