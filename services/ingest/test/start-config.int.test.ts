import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** `npm start` as it runs (`node --import tsx src/main.ts run`), with nothing configured. */
describe('sporbar-ingest run without its configuration', () => {
  it('prints one SPB_ERR_CONFIG listing every missing key, no stack trace, and exits non-zero', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run'], {
      cwd: PACKAGE_DIR,
      env: { PATH: process.env['PATH'], SPORBAR_PARTITIONS: 'x' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toMatch(/^SPB_ERR_CONFIG: sporbar-ingest cannot start: 5 configuration problems/);
    for (const name of ['SPORBAR_PARTITIONS', 'SPORBAR_SEAL_PRIVATE_KEY', 'SPORBAR_PSEUDONYM_KEY', 'SPORBAR_MASTER_KEY', 'SPORBAR_PRODUCER_REGISTRY']) expect(r.stderr).toContain(`\n  ${name} `);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(6);
  }, 60_000);
});
