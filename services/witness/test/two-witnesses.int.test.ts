import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { submitToWitness } from '../src/client.ts';
import { createCosigner, verifyCosignature, parseNote, parseVkey } from '@sporbar/auditor/note';
import { originHash } from '../src/witness.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { createTestLog } from './support/test-log.ts';
import { bodyOf, PACKAGE_DIR, post, startWitness, witnessFiles, type WitnessProcess } from './support/witness.ts';

/**
 * Two witnesses, each its own `sporbar-witness` process with its own key and database (as the data
 * protection authority and the audit office would run them), and a log that grows, forks and is
 * restarted against: each witness cosigns the honest log, both refuse the fork and keep their state,
 * concurrent submissions to two replicas of one witness (one database) cosign exactly one, and a
 * restarted witness remembers what it cosigned.
 */
const probe = await probePostgres();
const run = promisify(execFile);
const MAIN = join(PACKAGE_DIR, 'src/main.ts');
const log = createTestLog('sporbar.test/two-witnesses');
const dbs: { name: string; url: string }[] = [];
const running: WitnessProcess[] = [];

interface Party {
  name: string;
  env: Record<string, string>;
  vkey: string;
  proc: WitnessProcess;
}
const parties: Party[] = [];

async function party(name: string): Promise<Party> {
  const db = await createTestDatabase(probe.url!);
  dbs.push(db);
  const files = witnessFiles([log]);
  const env = { SPORBAR_WITNESS_NAME: name, SPORBAR_WITNESS_KEY_FILE: files.keyFile, SPORBAR_WITNESS_LOGS: files.logsFile, DATABASE_URL: db.url };
  const proc = await startWitness(env);
  running.push(proc);
  return { name, env, vkey: createCosigner(name, files.keyPem).vkey, proc };
}

const current = (p: Party) => fetch(`${p.proc.url}/${originHash(log.origin)}/checkpoint`).then(async (r) => `${r.status} ${await r.text()}`);
const sizeAt = async (p: Party): Promise<number> => {
  try {
    await submitToWitness(p.proc.url, { oldSize: 0, proof: [], checkpoint: log.checkpoint() });
    return 0;
  } catch (err) {
    if (isSporbarError(err, 'SPB_ERR_WITNESS_CONFLICT')) return err.details['witnessSize'] as number;
    throw err;
  }
};

describe.skipIf(probe.skip)('two witness processes', () => {
  beforeAll(async () => {
    parties.push(await party('datatilsynet.test/witness'), await party('rigsrevisionen.test/witness'));
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    for (const db of dbs) await dropTestDatabase(probe.url!, db.name);
  });

  it('each publishes the vkey of its key file at /', async () => {
    for (const p of parties) expect(await (await fetch(`${p.proc.url}/`)).text()).toBe(`${p.vkey}\n`);
  });

  it('each cosigns the growing log; the cosigned checkpoint verifies with both witnesses’ keys', async () => {
    let from = 0;
    for (const grow of [3, 1, 12, 5, 31]) {
      log.append(grow);
      const checkpoint = log.checkpoint();
      const lines = await Promise.all(parties.map((p) => submitToWitness(p.proc.url, { oldSize: from, proof: from ? log.proof(from) : [], checkpoint }, { witnessKey: p.vkey })));
      const cosigned = `${checkpoint}${lines.flat().map((l) => `${l}\n`).join('')}`;
      const note = parseNote(cosigned);
      for (const p of parties) {
        const sig = note.signatures.find((s) => s.name === p.name)!;
        expect(verifyCosignature(parseVkey(p.vkey), note.text, sig)).toMatchObject({ ok: true });
        // Independently: Ed25519 over "cosignature/v1\ntime <t>\n" ‖ the checkpoint text, with the key from the vkey.
        const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), parseVkey(p.vkey).publicKey]), format: 'der', type: 'spki' });
        const t = sig.signature.readBigUInt64BE(0);
        expect(verify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${note.text}`), key, sig.signature.subarray(8))).toBe(true);
        expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(120);
      }
      from = log.size();
    }
    expect(await Promise.all(parties.map(sizeAt))).toEqual([52, 52]);
  });

  it('both refuse a fork, with a different root for the size they saw or a rewritten history re-signed, and keep their state', async () => {
    const before = await Promise.all(parties.map(current));
    const fork = log.fork(30); // the operator rewrites history from leaf 30 on and signs it with the log's key
    for (const p of parties) {
      expect((await post(p.proc.url, `old 52\n\n${fork.checkpoint(52)}`)).status).toBe(422);
      expect((await post(p.proc.url, bodyOf(fork, 52))).status).toBe(422);
      // Pretending the witness saw less (or nothing) is a conflict, not a way around it.
      expect(await post(p.proc.url, bodyOf(fork, 16))).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: '52\n' });
      expect(await post(p.proc.url, `old 0\n\n${fork.checkpoint()}`)).toMatchObject({ status: 409, text: '52\n' });
    }
    expect(await Promise.all(parties.map(current))).toEqual(before);
    // The honest log goes on being cosigned.
    log.append(4);
    for (const p of parties) expect((await post(p.proc.url, bodyOf(log, 52))).status).toBe(200);
  });

  it('answers 404 to a log it does not witness and 400 to garbage', async () => {
    const other = createTestLog('sporbar.test/someone-else');
    other.append(3);
    for (const p of parties) {
      expect((await post(p.proc.url, bodyOf(other, 0))).status).toBe(404);
      expect((await post(p.proc.url, 'old twelve\n\nnonsense')).status).toBe(400);
    }
  });

  it('two replicas of one witness (one database): of concurrent submissions from the same old size exactly one is cosigned', async () => {
    const a = parties[0]!;
    const replica = await startWitness(a.env);
    running.push(replica);
    const from = log.size();
    log.append(10);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post(i % 2 ? replica.url : a.proc.url, bodyOf(log, from, from + 1 + i))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).map((r) => r.type)).toEqual(Array(9).fill('text/x.tlog.size'));
    const won = from + 1 + results.findIndex((r) => r.status === 200);
    expect(await sizeAt(a)).toBe(won);
    await replica.stop();
    // Catch the witness up to the log.
    expect((await post(a.proc.url, bodyOf(log, won))).status).toBe(200);
  });

  it('a restarted witness remembers the checkpoint it cosigned', async () => {
    const b = parties[1]!;
    const before = await current(b);
    const size = await sizeAt(b);
    await b.proc.stop();
    b.proc = await startWitness(b.env);
    running.push(b.proc);
    expect(await current(b)).toBe(before);
    expect(await sizeAt(b)).toBe(size);
    expect((await post(b.proc.url, bodyOf(log, size))).status).toBe(200);
    expect(await sizeAt(b)).toBe(log.size());
  });

  it('keygen writes a PKCS#8 key and prints its vkey; vkey prints the configured one; a bad configuration lists every problem', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sporbar-witness-keygen-')), 'w.pem');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'keygen', 'audit.test/w', file], { cwd: PACKAGE_DIR });
    expect(stdout).toBe(`${createCosigner('audit.test/w', readFileSync(file, 'utf8')).vkey}\n`);
    const vkey = await run(process.execPath, ['--import', 'tsx', MAIN, 'vkey'], { cwd: PACKAGE_DIR, env: { PATH: process.env.PATH, SPORBAR_WITNESS_NAME: 'audit.test/w', SPORBAR_WITNESS_KEY_FILE: file } });
    expect(vkey.stdout).toBe(stdout);
    // log-vkey: the vkey of a log's checkpoint key (SPKI PEM, as `sporbar keys init` writes it) under its origin, for the logs file.
    const pair = generateKeyPairSync('ed25519');
    const pem = join(mkdtempSync(join(tmpdir(), 'sporbar-witness-logkey-')), 'checkpoint.pub.pem');
    writeFileSync(pem, pair.publicKey.export({ format: 'pem', type: 'spki' }));
    const logVkey = await run(process.execPath, ['--import', 'tsx', MAIN, 'log-vkey', 'sporbar.v1/example', pem], { cwd: PACKAGE_DIR });
    expect(logVkey.stdout).toBe(`${createTestLog('sporbar.v1/example', pair.privateKey).vkey}\n`);
    const bad = await run(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { cwd: PACKAGE_DIR, env: { PATH: process.env.PATH } }).catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({ code: 1 });
    const stderr = (bad as { stderr: string }).stderr;
    expect(stderr).toMatch(/^SPB_ERR_CONFIG: sporbar-witness cannot start: 4 configuration problems/);
    for (const v of ['SPORBAR_WITNESS_NAME', 'SPORBAR_WITNESS_KEY', 'SPORBAR_WITNESS_LOGS', 'DATABASE_URL']) expect(stderr).toContain(v);
  });
});
