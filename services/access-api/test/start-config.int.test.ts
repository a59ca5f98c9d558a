import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The access API's start command (`node --import tsx src/main.ts`) with an empty environment. */
describe('the access API without its configuration', () => {
  it('prints one SPB_ERR_CONFIG listing every required secret, no stack trace, and exits non-zero', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: PACKAGE_DIR, env: { PATH: process.env['PATH'] }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toMatch(/^SPB_ERR_CONFIG: sporbar-access-api cannot start: 6 configuration problems/);
    for (const name of ['SPORBAR_SEAL_PUBLIC_KEY', 'SPORBAR_ROUTING_SECRET', 'SPORBAR_PSEUDONYM_KEY', 'SPORBAR_MASTER_KEY', 'SPORBAR_PRODUCER_KEY', 'SPORBAR_JWT_PUBLIC_KEY']) {
      expect(r.stderr).toContain(`\n  ${name} `);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
