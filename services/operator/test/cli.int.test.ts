import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { bearer, ME, testApp } from '../../access-api/test/helpers.ts';

/**
 * `npx sporbar …` as an operator runs it: the workspace bin, a real process, from the repository root.
 */
const repo = new URL('../../../', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'sporbar-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function sporbar(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repo, 'node_modules/.bin/sporbar'), args, { cwd: repo, env: { ...process.env, SPORBAR_ENV: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const snapshot = (dir: string) => new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const listed = (out: string, what: 'created' | 'kept') => (new RegExp(`^${what}: (.*)$`, 'm').exec(out)?.[1] ?? '').split(' ').filter((f) => f !== '(none)');

describe('sporbar keys init', () => {
  const dir = join(root, 'deployment');

  it('creates the directory 0700 and every file 0600, and prints the public parts', async () => {
    const r = await sporbar('keys', 'init', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    for (const f of files) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    for (const f of ['seal.key', 'seal.pub', 'pseudonym.key', 'master.key', 'routing.secret', 'checkpoint.key', 'checkpoint.pub.pem', 'access-token.key', 'access-token.pub.pem', 'producers.json', 'kafka-principals.json', 'producer-mitid-core.key', 'kafka-sporbar-ingest.password']) {
      expect(files).toContain(f);
    }
    for (const f of ['ingest.env', 'projector.env', 'access-api.env', 'gateway.env', 'log.env', 'retention.env', 'auditor.env', 'redrive.env', 'producer-mitid-core.env', 'producer-nemkonto.env']) expect(files).toContain(f);
    expect(listed(r.out, 'created').sort()).toEqual([...files].sort());
    expect(listed(r.out, 'kept')).toEqual([]);
    expect(r.out).toContain(`seal public key (SPORBAR_SEAL_PUBLIC_KEY, for every producer; also ${dir}/seal.pub): ${readFileSync(join(dir, 'seal.pub'), 'utf8').trim()}`);
    expect(r.out).toContain(readFileSync(join(dir, 'checkpoint.pub.pem'), 'utf8').trim());
    expect(r.out).toMatch(/^checkpoint public key \(raw Ed25519, base64url, for witnesses\): [A-Za-z0-9_-]{43}$/m);
    // no secret on stdout
    for (const f of ['seal.key', 'pseudonym.key', 'master.key', 'routing.secret', 'kafka-sporbar-ingest.password']) expect(r.out).not.toContain(readFileSync(join(dir, f), 'utf8').trim());
  });

  it('run again, it overwrites nothing; a deleted file is made anew, the same when it derives from another', async () => {
    const before = snapshot(dir);
    const again = await sporbar('keys', 'init', dir);
    expect(again.code).toBe(0);
    expect(listed(again.out, 'created')).toEqual([]);
    expect(listed(again.out, 'kept').sort()).toEqual([...before.keys()].sort());
    expect(snapshot(dir)).toEqual(before);

    // Derived files come back the same: a public key from its private key, a producer key file from
    // the registry, a password from kafka-principals.json and the other way round, an env file from the layout.
    const derived = ['seal.pub', 'checkpoint.pub.pem', 'access-token.pub.pem', 'producer-nemkonto.key', 'kafka-sporbar-ingest.password', 'ingest.env'];
    for (const f of derived) rmSync(join(dir, f));
    const third = await sporbar('keys', 'init', dir);
    expect(third.code).toBe(0);
    expect(listed(third.out, 'created').sort()).toEqual([...derived].sort());
    expect(snapshot(dir)).toEqual(before);

    // A key with no other copy is made anew (fresh, 0600); the principals file comes back from the password files.
    rmSync(join(dir, 'routing.secret'));
    rmSync(join(dir, 'kafka-principals.json'));
    const fourth = await sporbar('keys', 'init', dir);
    expect(listed(fourth.out, 'created')).toEqual(['routing.secret', 'kafka-principals.json']);
    expect(readFileSync(join(dir, 'routing.secret'), 'utf8')).not.toBe(before.get('routing.secret'));
    expect(readFileSync(join(dir, 'kafka-principals.json'), 'utf8')).toBe(before.get('kafka-principals.json'));
    expect(statSync(join(dir, 'routing.secret')).mode & 0o777).toBe(0o600);
  });

  it('a kept file that contradicts another, or that others may read, is refused with SPB_ERR_CONFIG, and nothing is written', async () => {
    rmSync(join(dir, 'seal.key')); // a new seal.key would not match the kept seal.pub
    rmSync(join(dir, 'log.env'));
    chmodSync(join(dir, 'master.key'), 0o644);
    const open = await sporbar('keys', 'init', dir);
    expect(open.code).toBe(2);
    expect(open.err).toMatch(/master\.key\s+is open to group or others \(mode 644\): chmod 600 it/);
    chmodSync(join(dir, 'master.key'), 0o600);
    const r = await sporbar('keys', 'init', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^SPB_ERR_CONFIG: sporbar keys init cannot start: 1 configuration problem/);
    expect(r.err).toMatch(/seal\.pub\s+is not the public key of seal\.key/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir)).not.toContain('seal.key');
    expect(readdirSync(dir)).not.toContain('log.env');
  });

  it('bad usage: every problem of a template at once, a directory open to others, no directory', async () => {
    const template = join(root, 'template.json');
    writeFileSync(template, JSON.stringify({ producers: [{ id: 'Bad Id', name: 'x', eventTypes: ['NoSuchEvent'], activities: ['mitid-core'], keys: [] }] }));
    const bad = await sporbar('keys', 'init', join(root, 'other'), '--producers', template);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/SPB_ERR_CONFIG/);
    expect(bad.err).toMatch(/a template holds no keys/);
    expect(bad.err).toMatch(/must be a kebab-case id/);
    expect(bad.err).toMatch(/not an event type: NoSuchEvent/);
    expect(readdirSync(root)).not.toContain('other');

    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const refused = await sporbar('keys', 'init', open);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/is open to group or others \(mode 755\)/);
    expect(readdirSync(open)).toEqual([]);

    expect((await sporbar('keys', 'init')).code).toBe(2);
  });

  it('a template of its own: only those producers, programs and principals', async () => {
    const template = join(root, 'small.json');
    const dev = JSON.parse(readFileSync(join(repo, 'services/operator/templates/producers.json'), 'utf8')) as { producers: Array<{ id: string }> };
    writeFileSync(template, JSON.stringify({ producers: dev.producers.filter((p) => ['nemkonto', 'sporbar-access-api', 'sporbar-retention'].includes(p.id)) }));
    const small = join(root, 'small');
    const r = await sporbar('keys', 'init', small, '--producers', template);
    expect(r.code).toBe(0);
    const files = readdirSync(small);
    expect(files.filter((f) => f.endsWith('.env')).sort()).toEqual(['access-api.env', 'auditor.env', 'ingest.env', 'log.env', 'producer-nemkonto.env', 'projector.env', 'redrive.env', 'retention.env']);
    const users = (JSON.parse(readFileSync(join(small, 'kafka-principals.json'), 'utf8')) as Array<{ user: string }>).map((p) => p.user);
    expect(users).toEqual(['sporbar-ingest', 'producer-nemkonto', 'sporbar-access-api', 'sporbar-redrive', 'sporbar-retention']);

    writeFileSync(template, JSON.stringify({ producers: dev.producers.filter((p) => p.id === 'nemkonto') }));
    const without = await sporbar('keys', 'init', join(root, 'without'), '--producers', template);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/no sporbar-access-api/);
    expect(without.err).toMatch(/no sporbar-retention/);
  });
});

describe('sporbar token issue', () => {
  const dir = join(root, 'tokens');
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("issues tokens the access API accepts in production with the deployment's key, and only with it", async () => {
    expect((await sporbar('keys', 'init', dir)).code).toBe(0);
    const publicKey = readFileSync(join(dir, 'access-token.pub.pem'), 'utf8');
    const t = await testApp(() => Promise.resolve(), { jwtPublicKey: publicKey, production: true });
    app = t.app;

    const citizen = await sporbar('token', 'issue', '--keys', dir, '--role', 'citizen', '--cpr', ME);
    expect(citizen.code).toBe(0);
    expect(citizen.err).toBe('');
    expect(citizen.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/); // the token and nothing else
    const claims = JSON.parse(Buffer.from(citizen.out.split('.')[1]!, 'base64url').toString()) as Record<string, number>;
    expect(claims['exp']! - claims['iat']!).toBe(15 * 60);
    const me = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen.out.trim()) });
    expect(me.statusCode).toBe(200);

    const dpo = await sporbar('token', 'issue', '--keys', dir, '--role', 'dpo', '--sub', 'dpo-0042', '--ttl', '1h');
    expect(dpo.code).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(dpo.out.trim()) })).statusCode).toBe(200);
    // a citizen token cannot do the DPO's work, and the public development key is not this deployment's
    expect((await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(citizen.out.trim()) })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(devToken({ role: 'citizen', cpr: ME })) })).statusCode).toBe(401);
  });

  it('bad usage lists every problem as SPB_ERR_CONFIG and prints no token', async () => {
    const r = await sporbar('token', 'issue', '--keys', dir, '--role', 'caseworker', '--cpr', ME, '--ttl', '2h');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^SPB_ERR_CONFIG: sporbar token issue cannot start: 3 configuration problems/);
    expect(r.err).toMatch(/--cpr\s+is for citizen tokens only/);
    expect(r.err).toMatch(/--sub\s+is required for a caseworker/);
    expect(r.err).toMatch(/--ttl\s+must be at most 3600 s/);
    expect(r.err).not.toContain(ME.replace('-', '')); // the CPR number is never echoed

    const sub = await sporbar('token', 'issue', '--keys', dir, '--role', 'auditor', '--sub', `auditor-${ME}`);
    expect(sub.code).toBe(2);
    expect(sub.err).toMatch(/--sub\s+must be 1-200 characters, without a CPR number/);

    const nokeys = await sporbar('token', 'issue', '--keys', join(root, 'nowhere'), '--role', 'citizen', '--cpr', ME);
    expect(nokeys.code).toBe(2);
    expect(nokeys.err).toMatch(/cannot read access-token.key \(ENOENT\): run sporbar keys init first/);
  });
});
