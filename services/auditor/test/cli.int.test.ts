import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore } from '@sporbar/event-store';
import { allProjections, createProjectionRunner, fromPglite } from '@sporbar/projections';
import { register } from '@sporbar/schemas';
import { runCli } from '../src/cli.ts';
import { storeTables } from '../../event-store/test/support/tables.ts';
import { codec, writeLog, type WrittenLog } from './support.ts';
import { runCliCaptured } from './support/run-cli.ts';

/** The embedded layout `npm start` creates: <dir>/pglite holds the store (schema sporbar) and rm_* read models. */
let dir: string;
let pem: string;
let written: WrittenLog;

async function withPglite<T>(fn: (db: PGlite) => Promise<T>): Promise<T> {
  const db = await PGlite.create(join(dir, 'pglite'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const cli = (...args: string[]) => runCliCaptured(['--store', 'pglite', '--data-dir', dir, '--public-key', pem, ...args]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sporbar-cli-'));
  await withPglite(async (db) => {
    const store = await createPgliteEventStore({ db });
    written = await writeLog(store);
    const runner = createProjectionRunner({ store, db: fromPglite(db), codec, projections: allProjections(register), idleFlushMs: 5 });
    await runner.start();
    await runner.waitFor(await store.headPosition());
    await runner.stop();
    await store.close();
  });
  pem = join(dir, 'key.pub.pem');
  writeFileSync(pem, written.key.publicKey.export({ format: 'pem', type: 'spki' }).toString());
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sporbar-audit on the embedded data directory', () => {
  it('verify: OK and exit 0 on an untouched log, naming the tail no checkpoint covers yet; beyond the grace exit 1', async () => {
    const r = await cli('--quiet', 'verify');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^OK \(with warnings\): 69 leaves \(last position 69\), 6 checkpoint\(s\), 6 verified, 5 consistency proof\(s\) checked; latest verified tree size 65; origin sporbar\.v1\/test-log/);
    expect(r.out).toContain('[uncovered] (warning) 3 event(s) after tree size 65 are not covered by any signed checkpoint, positions 67..69');
    const strict = await cli('--quiet', 'verify', '--tail-grace', '2events');
    expect(strict.code, strict.out).toBe(1);
    expect(strict.out).toMatch(/^FAILED: .*\n {2}\[uncovered\] 3 event\(s\) after tree size 65 .* beyond the grace of 2 event\(s\)/);
    expect((await cli('--quiet', 'verify', '--tail-grace', '2events', '--allow-uncovered-tail')).code).toBe(0);
    expect((await cli('--quiet', 'verify', '--tail-grace', 'soon')).code).toBe(2);
  });

  it('proof: prints an inclusion proof and checks it against the checkpoint', async () => {
    const r = await cli('proof', '--event', written.leaves[5]!, '--checkpoint-size', '21');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ leafIndex: 5, treeSize: 21, verified: true, checkpoint: written.checkpoints[1]!.text });
    expect((await cli('proof', '--event', written.leaves[5]!, '--checkpoint-size', '20')).code).toBe(1);
  });

  it('export then verify --file: exit 0; the export is checked offline', async () => {
    const out = join(dir, 'slice.avro');
    const e = await cli('-q', 'export', '--from', '3', '--to', '30', '--out', out);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toContain('exported 28 event(s) with inclusion proofs against tree size 65');
    const v = await cli('verify', '--file', out);
    expect(v.code, v.out).toBe(0);
    expect(v.out).toContain('OK: 28 exported event(s) checked against the signed checkpoint of tree size 65');
  });

  it('diff --against the live data dir: replays up to the live checkpoint, no difference', async () => {
    const r = await cli('-q', 'diff', '--against', dir);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('subject_disclosures: replayed 63 row(s), live 63, 0 difference(s)');
  });

  it('replay --at a position into a scratch dir, then diff it against the live read model', async () => {
    const scratch = join(dir, 'scratch');
    const r = await cli('-q', 'replay', '--at', '30', '--into', scratch);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('replayed 30 event(s) up to position 30');
    expect(existsSync(join(scratch, 'PG_VERSION'))).toBe(true);
    // Like with like: the live rows of the 35 events after position 30 are not yet in the log at that point.
    const d = await cli('-q', 'diff', '--against', dir, '--replayed', scratch);
    expect(d.code, d.out).toBe(0);
    expect(d.out).toContain('subject_disclosures: replayed 28 row(s), live 28, 0 difference(s); 35 live row(s) for events not yet in the log at the replayed point (position 30), not compared');
    expect(d.out).toContain('subject_recipients: not compared: it aggregates many events');
    expect(d.out).not.toContain('does not produce');
    expect((await cli('replay', '--at', '30', '--into', join(dir, 'pglite'))).code).toBe(2);
  });

  it('diff --at T (replayed in memory) compares what the log held at T', async () => {
    const at = await cli('-q', 'diff', '--against', dir, '--at', '30');
    expect(at.code, at.out).toBe(0);
    expect(at.out).toContain('compared like with like: the events the log held at T = 30 (position 30)');
    expect(at.out).toContain('subject_disclosures: replayed 28 row(s), live 28, 0 difference(s); 35 live row(s) for events not yet in the log at T = 30 (position 30), not compared');
  });

  it('compare: an export against the store, exit 0 when the same', async () => {
    const out = join(dir, 'whole.ndjson');
    expect((await cli('-q', 'export', '--format', 'ndjson', '--out', out)).code).toBe(0);
    const r = await cli('-q', 'compare', out);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`SAME: the store holds the 65 exported event(s) of ${out} (leaf index 0..64) byte for byte`);
    expect(r.out).toContain('the export verifies against the signed checkpoint of tree size 65');
    expect((await cli('-q', 'compare', join(dir, 'no-such-export'))).code).toBe(2);
  });

  it('verify: exit 1 naming the position after an edit in the store; compare names it too', async () => {
    await withPglite((db) => db.query(`UPDATE ${storeTables('sporbar').events} SET data = set_byte(data, 14, get_byte(data, 14) # 1) WHERE global_position = 40`));
    const r = await cli('--quiet', 'verify');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAILED');
    expect(r.out).toContain('checkpoint at tree size 43 (position 44');
    expect(r.out).toContain(`first differing leaf is at leaf index 39 / position 40 (event ${written.leaves[39]})`);
    const json = JSON.parse((await cli('-q', 'verify', '--json')).out) as { ok: boolean; findings: { position: string }[] };
    expect(json).toMatchObject({ ok: false, findings: [{ position: '40' }] });
    const ref = await cli('-q', 'verify', '--reference', join(dir, 'whole.ndjson'));
    expect(ref.code, ref.out + ref.err).toBe(1);
    expect(ref.out).toContain(`first differing leaf is at leaf index 39 / position 40 (event ${written.leaves[39]})`);
    const c = await cli('-q', 'compare', join(dir, 'whole.ndjson'));
    expect(c.code, c.out + c.err).toBe(1);
    expect(c.out).toMatch(/^DIFFERS: first differing position 40 \(leaf index 39\): /);
    expect(c.out).toContain('1 of the 65 exported leaves (leaf index 0..64) differ');
  });

  it('usage errors exit 2; keygen writes a key pair', async () => {
    expect((await cli('replay', '--at', 'yesterday', '--into', join(dir, 'x'))).code).toBe(2);
    const silent = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
    const missing = await runCli(['--store', 'pglite', '--data-dir', join(dir, 'nothing-here'), '--public-key', pem, '-q', 'verify'], { out: () => undefined, err: silent });
    expect(missing).toBe(2);
    const k = await cli('keygen', '--out', join(dir, 'keys'));
    expect(k.code).toBe(0);
    expect(readFileSync(join(dir, 'keys', 'checkpoint-key.pub.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
  });
});
