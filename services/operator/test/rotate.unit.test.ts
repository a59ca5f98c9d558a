import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSigningKey, logOrigin, signTreeHead, verifyTreeHead } from '@sporbar/auditor';
import { ingestConfigFromEnv } from '@sporbar/ingest';
import { validatePrincipals, type KafkaPrincipalSpec } from '@sporbar/kafka-infra';
import { createProducerSigner, createProducerVerifier, createPseudonymiser, createSubjectOpener, createSubjectSealer, parseProducerKey } from '@sporbar/key-store';
import { accessApiConfigFromEnv } from '../../access-api/src/config.ts';
import { bearer, ME, testApp } from '../../access-api/test/helpers.ts';
import { parseEnvFile } from '../src/deployment.ts';
import { main } from '../src/command.ts';

/**
 * Each rotation on a key directory made by `keys init`, checked through the programs' own
 * configuration parsers and key code: what was written under the old key still works while the
 * rotation says it does, and stops working when it is finished.
 */
const root = mkdtempSync(join(tmpdir(), 'sporbar-rotate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CA_FILE = new URL('../../common/test/fixtures/test-ca.crt', import.meta.url).pathname;
/** The operator's witness policy (the access API requires one in production): none, said explicitly. */
const NO_WITNESSES = new URL('fixtures/no-witnesses.policy', import.meta.url).pathname;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}
async function deployment(name: string): Promise<string> {
  const dir = join(root, name);
  expect((await run('keys', 'init', dir)).code).toBe(0);
  return dir;
}
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
const envOf = (dir: string, f: string) => ({ DATABASE_URL: 'postgres://h/db', KAFKA_BROKERS: 'k:9093', KAFKA_CA_FILE: CA_FILE, SPORBAR_LOG_URL: 'http://log.internal:3200', SPORBAR_WITNESS_POLICY_FILE: NO_WITNESSES, ...parseEnvFile(read(dir, f)) });
const modes = (dir: string) => readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mode & 0o777]).filter(([, m]) => m !== 0o600);

describe('keys rotate pseudonym', () => {
  it('moves the old key to the access API\'s previous keys: old pseudonyms stay findable, new events get the new one', async () => {
    const dir = await deployment('pseudonym');
    const before = ingestConfigFromEnv(envOf(dir, 'ingest.env'));
    const stored = createPseudonymiser(before.pseudonymKey).pseudonym(ME); // what the ingest stored before
    const r = await run('keys', 'rotate', 'pseudonym', '--keys', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pseudonym key k1 → k2/);
    for (let i = 0; i < 2; i++) {
      const ingest = ingestConfigFromEnv(envOf(dir, 'ingest.env'));
      const api = accessApiConfigFromEnv(envOf(dir, 'access-api.env'));
      expect(ingest.pseudonymKey.id).toBe(i === 0 ? 'k2' : 'k3');
      expect(api.pseudonymKey).toEqual(ingest.pseudonymKey);
      const lookup = createPseudonymiser(api.pseudonymKey, api.previousPseudonymKeys).all(ME);
      expect(lookup).toContain(stored);
      expect(lookup[0]).toBe(createPseudonymiser(ingest.pseudonymKey).pseudonym(ME));
      expect(lookup[0]).not.toBe(stored);
      if (i === 0) expect((await run('keys', 'rotate', 'pseudonym', '--keys', dir)).code).toBe(0);
    }
    expect(accessApiConfigFromEnv(envOf(dir, 'access-api.env')).previousPseudonymKeys.map((k) => k.id)).toEqual(['k2', 'k1']);
    // the ingest knows them too: an erasure shreds the data keys under every pseudonym of the subject
    expect(ingestConfigFromEnv(envOf(dir, 'ingest.env')).previousPseudonymKeys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(modes(dir)).toEqual([]);
  });
});

describe('keys rotate producer', () => {
  it('lists the new key beside the old: both accepted; --finish drops the old one', async () => {
    const dir = await deployment('producer');
    const oldKey = parseProducerKey('nemkonto', read(dir, 'producer-nemkonto.key').trim());
    const signed = (key: typeof oldKey) => {
      const value = Buffer.from(`event signed with ${key.keyId}`);
      return [value, createProducerSigner(key)(value)] as const;
    };
    const r = await run('keys', 'rotate', 'producer', '--producer', 'nemkonto', '--keys', dir);
    expect(r.code).toBe(0);
    const newKey = parseProducerKey('nemkonto', read(dir, 'producer-nemkonto.key').trim());
    expect([oldKey.keyId, newKey.keyId]).toEqual(['p1', 'p2']);
    const during = createProducerVerifier(ingestConfigFromEnv(envOf(dir, 'ingest.env')).producers);
    expect(during(...signed(oldKey))).toBe('nemkonto');
    expect(during(...signed(newKey))).toBe('nemkonto');

    // Run again before --finish: refused, nothing more is added.
    const again = await run('keys', 'rotate', 'producer', '--producer', 'nemkonto', '--keys', dir);
    expect([again.code, again.err]).toEqual([2, expect.stringMatching(/a rotation of nemkonto is under way \(keys p1, p2 listed, p2 in use\): run it with --finish first/)]);
    expect(ingestConfigFromEnv(envOf(dir, 'ingest.env')).producers.producers.find((p) => p.id === 'nemkonto')!.keys.map((k) => k.keyId)).toEqual(['p1', 'p2']);

    expect((await run('keys', 'rotate', 'producer', '--producer', 'nemkonto', '--finish', '--keys', dir)).code).toBe(0);
    const after = createProducerVerifier(ingestConfigFromEnv(envOf(dir, 'ingest.env')).producers);
    expect(() => after(...signed(oldKey))).toThrow(expect.objectContaining({ code: 'SPB_ERR_BAD_AUTHENTICATOR' }));
    expect(after(...signed(newKey))).toBe('nemkonto');
    // the other producers' keys are untouched
    expect(after(...signed(parseProducerKey('mitid-core', read(dir, 'producer-mitid-core.key').trim())))).toBe('mitid-core');
    expect(modes(dir)).toEqual([]);
  });

  it('refuses an unknown producer, listing the known ones', async () => {
    const dir = await deployment('producer-bad');
    const r = await run('keys', 'rotate', 'producer', '--producer', 'nobody', '--keys', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^SPB_ERR_CONFIG: .*\n\s+--producer\s+must name a producer of producers.json: mitid-core, /);
  });
});

describe('keys rotate seal', () => {
  it('the ingest opens envelopes sealed to the old and the new public key until --finish', async () => {
    const dir = await deployment('seal');
    const oldEnvelope = await createSubjectSealer(read(dir, 'seal.pub').trim()).seal(ME);
    const r = await run('keys', 'rotate', 'seal', '--keys', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`seal public key (SPORBAR_SEAL_PUBLIC_KEY, give it to every producer): ${read(dir, 'seal.pub').trim()}`);
    const newEnvelope = await createSubjectSealer(read(dir, 'seal.pub').trim()).seal(ME);
    const opener = (c: ReturnType<typeof ingestConfigFromEnv>) => createSubjectOpener(c.sealPrivateKey, { previousPrivateKeys: c.previousSealPrivateKeys });
    const during = opener(ingestConfigFromEnv(envOf(dir, 'ingest.env')));
    expect(await during.open(oldEnvelope)).toBe(ME.replace('-', ''));
    expect(await during.open(newEnvelope)).toBe(ME.replace('-', ''));
    // every writer's env names the same (new) public key file
    expect(accessApiConfigFromEnv(envOf(dir, 'access-api.env')).sealPublicKey).toBe(read(dir, 'seal.pub').trim());

    expect((await run('keys', 'rotate', 'seal', '--finish', '--keys', dir)).code).toBe(0);
    expect(readdirSync(dir)).not.toContain('seal-previous.keys');
    const after = opener(ingestConfigFromEnv(envOf(dir, 'ingest.env')));
    await expect(after.open(oldEnvelope)).rejects.toMatchObject({ code: 'SPB_ERR_MALFORMED_BODY' });
    expect(await after.open(newEnvelope)).toBe(ME.replace('-', ''));
  });
});

describe('keys rotate routing, checkpoint, access-token, kafka', () => {
  it('routing: a new secret in the same file, read by every writer', async () => {
    const dir = await deployment('routing');
    const before = read(dir, 'routing.secret');
    const envs = readdirSync(dir).filter((f) => f.endsWith('.env')).map((f) => read(dir, f));
    expect((await run('keys', 'rotate', 'routing', '--keys', dir)).code).toBe(0);
    expect(read(dir, 'routing.secret')).not.toBe(before);
    expect(accessApiConfigFromEnv(envOf(dir, 'access-api.env')).routingSecret).toBe(read(dir, 'routing.secret').trim());
    expect(readdirSync(dir).filter((f) => f.endsWith('.env')).map((f) => read(dir, f))).toEqual(envs);
  });

  it('checkpoint: a new signing key; the old verifier key is kept for the checkpoints it signed', async () => {
    const dir = await deployment('checkpoint');
    const note = (pem: string) => signTreeHead({ origin: logOrigin('rot'), treeSize: 3, rootHash: Buffer.alloc(32, 9) }, loadSigningKey(pem));
    const oldNote = note(read(dir, 'checkpoint.key'));
    const oldId = loadSigningKey(read(dir, 'checkpoint.key')).keyId;
    const r = await run('keys', 'rotate', 'checkpoint', '--keys', dir);
    expect(r.code).toBe(0);
    const newNote = note(read(dir, 'checkpoint.key'));
    expect(verifyTreeHead(newNote, read(dir, 'checkpoint.pub.pem')).ok).toBe(true);
    expect(verifyTreeHead(oldNote, read(dir, 'checkpoint.pub.pem')).ok).toBe(false);
    expect(verifyTreeHead(oldNote, read(dir, `checkpoint-${oldId}.pub.pem`)).ok).toBe(true);
    expect(r.out).toMatch(/^checkpoint public key \(raw Ed25519, base64url, for witnesses\): [\w-]{43}$/m);
  });

  it("access-token: tokens of the new key are accepted, the old key's are not", async () => {
    const dir = await deployment('token');
    const token = async () => (await run('token', 'issue', '--keys', dir, '--role', 'citizen', '--cpr', ME)).out.trim();
    const oldToken = await token();
    expect((await run('keys', 'rotate', 'access-token', '--keys', dir)).code).toBe(0);
    const newToken = await token();
    const { app } = await testApp(() => Promise.resolve(), { jwtPublicKey: read(dir, 'access-token.pub.pem'), production: true });
    try {
      expect((await app.inject({ url: '/v1/me/disclosures', headers: bearer(newToken) })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/me/disclosures', headers: bearer(oldToken) })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('kafka: a new password in the password file and the principals file, nobody else\'s changed', async () => {
    const dir = await deployment('kafka');
    const before = JSON.parse(read(dir, 'kafka-principals.json')) as KafkaPrincipalSpec[];
    const r = await run('keys', 'rotate', 'kafka', '--user', 'sporbar-ingest', '--keys', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`npx tsx infra/kafka/src/cli.ts provision ${dir}/kafka-principals.json`);
    const after = JSON.parse(read(dir, 'kafka-principals.json')) as KafkaPrincipalSpec[];
    validatePrincipals(after);
    const ingest = after.find((p) => p.user === 'sporbar-ingest')!;
    expect(ingest.password).not.toBe(before.find((p) => p.user === 'sporbar-ingest')!.password);
    expect(read(dir, 'kafka-sporbar-ingest.password').trim()).toBe(ingest.password);
    expect(after.filter((p) => p.user !== 'sporbar-ingest')).toEqual(before.filter((p) => p.user !== 'sporbar-ingest'));
    expect(ingestConfigFromEnv(envOf(dir, 'ingest.env')).kafka.sasl?.password).toBe(ingest.password);
  });

  it('bad usage: an unknown kind, --finish where nothing is staged, a directory keys init never made', async () => {
    const dir = await deployment('usage');
    const kind = await run('keys', 'rotate', 'everything', '--keys', dir);
    expect([kind.code, kind.err]).toEqual([2, expect.stringMatching(/<kind>\s+must be one of pseudonym, master, producer/)]);
    expect((await run('keys', 'rotate', 'routing', '--finish', '--keys', dir)).err).toMatch(/--finish\s+ends a producer, seal or master rotation only/);
    const nowhere = await run('keys', 'rotate', 'pseudonym', '--keys', join(root, 'nowhere'));
    expect([nowhere.code, nowhere.err]).toEqual([2, expect.stringMatching(/cannot read .*nowhere \(ENOENT\): run sporbar keys init first/)]);
    const master = await run('keys', 'rotate', 'master', '--finish', '--keys', dir);
    expect([master.code, master.err]).toEqual([2, expect.stringMatching(/DATABASE_URL\s+is required/)]);
  });
});
