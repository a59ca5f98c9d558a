import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { ingestConfigFromEnv } from '@sporbar/ingest';
import { createPseudonymiser, createSubjectKeyStore, migrateSubjectKeys, type MasterKey } from '@sporbar/key-store';
import { accessApiConfigFromEnv } from '../../access-api/src/config.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { parseEnvFile } from '../src/deployment.ts';

/**
 * `keys rotate master` against PostgreSQL, as an operator runs it (`npx sporbar`, real processes):
 * step one makes the new master current and the old one previous (the ingest and the API, configured
 * from their env files, read every data key and wrap new ones under the new master); `--finish`
 * re-wraps every data key, after which the new master alone reads them all and the old one none.
 */
const postgres = await probePostgres();
const repo = new URL('../../../', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'sporbar-master-'));
const dir = join(root, 'keys');
let db: { name: string; url: string } | undefined;
let pool: pg.Pool;

function sporbar(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repo, 'node_modules/.bin/sporbar'), args, { cwd: repo, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}
// What the operator adds to the env files: the database, the brokers and their CA.
const CA_FILE = new URL('../../common/test/fixtures/test-ca.crt', import.meta.url).pathname;
/** The operator's witness policy (the access API requires one in production): none, said explicitly. */
const NO_WITNESSES = new URL('fixtures/no-witnesses.policy', import.meta.url).pathname;
const envOf = (f: string) => ({ DATABASE_URL: db!.url, KAFKA_BROKERS: 'k:9093', KAFKA_CA_FILE: CA_FILE, SPORBAR_LOG_URL: 'http://log.internal:3200', SPORBAR_WITNESS_POLICY_FILE: NO_WITNESSES, ...parseEnvFile(readFileSync(join(dir, f), 'utf8')) });
const cpr = (n: number) => `${String((n % 28) + 1).padStart(2, '0')}0${(n % 9) + 1}8${n % 10}-${String(1000 + n).slice(-4)}`;

beforeAll(async () => {
  if (postgres.skip) return;
  db = await createTestDatabase(postgres.url!);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrateSubjectKeys(pgPoolSqlClient(pool));
});
afterAll(async () => {
  await pool?.end();
  if (db) await dropTestDatabase(postgres.url!, db.name);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(postgres.skip)('keys rotate master on PostgreSQL', () => {
  it('two steps without downtime: every data key readable throughout, then only under the new master', async () => {
    expect((await sporbar({}, 'keys', 'init', dir)).code).toBe(0);
    const configs = () => ({ ingest: ingestConfigFromEnv(envOf('ingest.env')), api: accessApiConfigFromEnv(envOf('access-api.env')) });
    const storeOf = (masterKey: MasterKey, previousMasterKeys: readonly MasterKey[] = []) => createSubjectKeyStore({ db: pool, masterKey, previousMasterKeys, cacheSize: 0 });
    const { ingest } = configs();
    const pseudonyms = createPseudonymiser(ingest.pseudonymKey);
    const m1 = ingest.masterKey;

    // What the ingest wrote under m1: 500 subjects' details.
    const written: Array<{ subject: string; eventId: string; blob: Buffer }> = [];
    const before = storeOf(m1);
    for (let n = 0; n < 500; n++) {
      const subject = pseudonyms.pseudonym(cpr(n));
      const eventId = randomUUID();
      written.push({ subject, eventId, blob: await before.encrypt(subject, eventId, { ipAddress: `10.0.${n >> 8}.${n & 255}` }) });
    }
    const readsAll = async (store: ReturnType<typeof storeOf>) => (await store.decryptMany(written)).every((r) => r.status === 'ok');

    // Step one: no database needed; the ingest and the API now hold m2 (current) and m1 (previous).
    const step1 = await sporbar({}, 'keys', 'rotate', 'master', '--keys', dir);
    expect(step1.err).toBe('');
    expect(step1.code).toBe(0);
    expect(step1.out).toMatch(/master key m1 → m2; m1 moved to master-previous.keys/);
    const during = configs();
    for (const c of [during.ingest, during.api]) {
      expect(c.masterKey.id).toBe('m2');
      expect(c.previousMasterKeys.map((k) => k.id)).toEqual(['m1']);
      expect(c.previousMasterKeys[0]!.key.equals(m1.key)).toBe(true);
    }
    const rotating = storeOf(during.ingest.masterKey, during.ingest.previousMasterKeys);
    expect(await readsAll(rotating)).toBe(true);
    // a subject first seen during the rotation gets a key wrapped under m2
    const late = { subject: pseudonyms.pseudonym(cpr(900)), eventId: randomUUID() };
    written.push({ ...late, blob: await rotating.encrypt(late.subject, late.eventId, { ipAddress: '10.9.9.9' }) });
    const byMaster = async () => Object.fromEntries((await pool.query<{ m: string; n: string }>('SELECT master_key_id AS m, count(*) AS n FROM public.subject_keys GROUP BY 1')).rows.map((r) => [r.m, Number(r.n)]));
    expect(await byMaster()).toEqual({ m1: 500, m2: 1 });

    // --finish without DATABASE_URL: refused, nothing changed
    const { DATABASE_URL: _omit, ...withoutDb } = process.env;
    const refused = await new Promise<number>((resolve) => spawn(join(repo, 'node_modules/.bin/sporbar'), ['keys', 'rotate', 'master', '--finish', '--keys', dir], { cwd: repo, env: withoutDb, stdio: 'ignore' }).on('close', (c) => resolve(c ?? -1)));
    expect(refused).toBe(2);
    expect(readdirSync(dir)).toContain('master-previous.keys');

    const finish = await sporbar({ DATABASE_URL: db!.url }, 'keys', 'rotate', 'master', '--finish', '--keys', dir);
    expect(finish.err).toBe('');
    expect(finish.code).toBe(0);
    expect(finish.out).toMatch(/master key m2: 500 data keys re-wrapped in \d+ ms; none is left under m1/);
    expect(finish.out).not.toContain(readFileSync(join(dir, 'master.key'), 'utf8').trim());
    expect(await byMaster()).toEqual({ m2: 501 });
    expect(readdirSync(dir)).not.toContain('master-previous.keys');

    const after = configs();
    for (const c of [after.ingest, after.api]) expect([c.masterKey.id, c.previousMasterKeys]).toEqual(['m2', []]);
    expect(await readsAll(storeOf(after.api.masterKey))).toBe(true);
    // the old master alone reads nothing any more (a wrong key is a configuration fault)
    await expect(storeOf(m1).decryptMany(written.slice(0, 1))).rejects.toMatchObject({ code: 'SPB_ERR_CONFIG' });

    // A second rotation starts from m2.
    expect((await sporbar({}, 'keys', 'rotate', 'master', '--keys', dir)).out).toMatch(/master key m2 → m3/);
    const again = await sporbar({}, 'keys', 'rotate', 'master', '--keys', dir);
    expect([again.code, again.err]).toEqual([2, expect.stringMatching(/a master rotation is under way: run keys rotate master --finish first/)]);
  });
});
