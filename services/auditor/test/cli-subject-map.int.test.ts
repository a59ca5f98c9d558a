import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore } from '@sporbar/event-store';
import { MapLogWriter } from './map-log.ts';
import { runCliCaptured } from './support/run-cli.ts';

/**
 * `sporbar-audit verify --subject-map-key` on embedded data directories (the layout `npm start`
 * creates): one whose commitments are honest, one where the operator committed (and signed) a map
 * that leaves a disclosure out.
 */
let root: string;
const MAP_KEY = Buffer.from('the subject map key of the cli tests, 32+ bytes');
const dirs = { good: '', forged: '' };
const pems = { good: '', forged: '' };
let keyFile: string;

async function write(dir: string, lie: boolean): Promise<string> {
  const db = await PGlite.create(join(dir, 'pglite'));
  try {
    const store = await createPgliteEventStore({ db });
    const w = new MapLogWriter(store, { mapKey: MAP_KEY });
    for (const s of [1, 2, 1, 3]) await w.disclosure(s);
    await w.commit();
    await w.checkpoint();
    for (const s of [2, 1, 3]) await w.disclosure(s);
    await w.commit(lie ? { root: w.rootAt(w.size, 7) } : {}); // leaf 9 commits size 9; the lie leaves the disclosure at leaf 7 out
    await w.checkpoint();
    await store.close();
    const pem = join(dir, 'key.pub.pem');
    writeFileSync(pem, w.signing.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    return pem;
  } finally {
    await db.close();
  }
}

const cli = (which: 'good' | 'forged', ...args: string[]) => runCliCaptured(['--store', 'pglite', '--data-dir', dirs[which], '--public-key', pems[which], '-q', ...args]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sporbar-cli-map-'));
  for (const which of ['good', 'forged'] as const) {
    dirs[which] = join(root, which);
    mkdirSync(dirs[which]);
    pems[which] = await write(dirs[which], which === 'forged');
  }
  keyFile = join(root, 'subject-map.key');
  writeFileSync(keyFile, `${MAP_KEY.toString('base64url')}\n`);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sporbar-audit verify --subject-map-key', () => {
  it('a good log: exit 0, the commitments checked, in the summary and the JSON', async () => {
    const r = await cli('good', 'verify', '--subject-map-key', keyFile);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^OK: 11 leaves/);
    expect(r.out).toContain('\n  subject map: 2 commitments checked, the newest at tree size 9');
    const json = JSON.parse((await cli('good', 'verify', '--subject-map-key', keyFile, '--json')).out) as { ok: boolean; subjectMap: unknown };
    expect(json).toMatchObject({ ok: true, subjectMap: { checked: true, commitments: 2, compared: 2, agreed: 2, newestTreeSize: 9 } });
  });

  it('a forged commitment: exit 1, naming the sizes', async () => {
    const r = await cli('forged', 'verify', '--subject-map-key', keyFile);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/^FAILED: 11 leaves/);
    expect(r.out).toContain('[subject-map] the subject-map commitment at leaf index 9 / position 10');
    expect(r.out).toContain('commits a map root for tree size 9 that is not the map recomputed from the log: the commitments agreed up to tree size 4, so the divergence is among log indexes 4..8');
  });

  it('the key from SPORBAR_SUBJECT_MAP_KEY; without any key the commitments are a warning, not a failure', async () => {
    const before = process.env['SPORBAR_SUBJECT_MAP_KEY'];
    process.env['SPORBAR_SUBJECT_MAP_KEY'] = MAP_KEY.toString('base64url');
    try {
      expect((await cli('forged', 'verify')).code).toBe(1);
      expect((await cli('good', 'verify')).code).toBe(0);
    } finally {
      if (before === undefined) delete process.env['SPORBAR_SUBJECT_MAP_KEY'];
      else process.env['SPORBAR_SUBJECT_MAP_KEY'] = before;
    }
    const r = await cli('forged', 'verify');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^OK \(with warnings\)/);
    expect(r.out).toContain('[subject-map-unchecked] (warning) the log holds 2 subject-map commitment(s) that were NOT checked');
  });

  it('a key that is too short or missing is a usage error (exit 2)', async () => {
    const short = join(root, 'short.key');
    writeFileSync(short, Buffer.alloc(16, 1).toString('base64url'));
    const r = await cli('good', 'verify', '--subject-map-key', short);
    expect(r.code).toBe(2);
    expect(r.err).toContain('must be at least 32 bytes (base64url), got 16 bytes');
    expect((await cli('good', 'verify', '--subject-map-key', join(root, 'no-such.key'))).code).toBe(2);
  });
});
