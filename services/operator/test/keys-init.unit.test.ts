import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKey, loadVerifyingKey, signTreeHead, verifyTreeHead, logOrigin } from '@sporbar/auditor';
import { auditorConfigFromEnv } from '@sporbar/auditor';
import { ingestConfigFromEnv, loadIngestConfig, redriveConfigFromEnv } from '@sporbar/ingest';
import { loadGatewayConfig, readGatewayConfig } from '@sporbar/producer-gateway';
import { accessApiConfigFromEnv } from '../../access-api/src/config.ts';
import { projectorConfigFromEnv } from '../../../projections/src/config.ts';
import { validatePrincipals, type KafkaPrincipalSpec } from '@sporbar/kafka-infra';
import { createProducerSigner, createProducerVerifier, createSubjectOpener, createSubjectSealer, loadProducerRegistryFile, parseProducerKey, routingKey } from '@sporbar/key-store';
import { parseEnvFile } from '../src/deployment.ts';
import { DEFAULT_TEMPLATE_FILE, keysInit } from '../src/init.ts';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';

/**
 * `keys init` in process: every env file it writes is read by the program's own configuration
 * parser (with what the operator adds: DATABASE_URL, KAFKA_BROKERS, KAFKA_CA_FILE), so a name that
 * drifts from a program's src/config.ts fails here.
 */
// The operator's Kafka CA (KAFKA_CA_FILE): a test CA certificate of @sporbar/common's tests.
const caFile = new URL('../../common/test/fixtures/test-ca.crt', import.meta.url).pathname;
/** The operator's witness policy (the access API requires one in production): none, said explicitly. */
const NO_WITNESSES = new URL('fixtures/no-witnesses.policy', import.meta.url).pathname;
let dir: string;
const env = (name: string): Record<string, string> => parseEnvFile(readFileSync(join(dir, name), 'utf8'));

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'sporbar-keys-')), 'deployment');
  await keysInit(dir);
});
afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const operatorAdds = () => ({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sporbar', KAFKA_BROKERS: 'kafka-1:9093', KAFKA_CA_FILE: caFile, SPORBAR_LOG_URL: 'http://log.internal:3200', SPORBAR_WITNESS_POLICY_FILE: NO_WITNESSES });

describe('every env file is accepted by its program', () => {
  it('ingest and redrive', () => {
    const c = ingestConfigFromEnv({ ...operatorAdds(), ...env('ingest.env') });
    expect(c.kafka.sasl).toMatchObject({ username: 'sporbar-ingest' });
    expect(c.pseudonymKey.id).toBe('k1');
    expect(c.masterKey.id).toBe('m1');
    expect(c.producers.development).toBe(false);
    expect(redriveConfigFromEnv({ ...operatorAdds(), ...env('redrive.env') }).kafka.sasl).toMatchObject({ username: 'sporbar-redrive' });
    // least privilege: only the ingest opens seals and reads the registry; only the ingest and the API hold the master key
    for (const f of ['access-api.env', 'gateway.env', 'retention.env', 'producer-mitid-core.env', 'log.env', 'auditor.env', 'projector.env', 'redrive.env']) {
      expect(Object.keys(env(f)), f).not.toContain('SPORBAR_SEAL_PRIVATE_KEY_FILE');
      if (f !== 'gateway.env') expect(Object.keys(env(f)), f).not.toContain('SPORBAR_PRODUCER_REGISTRY');
      if (f !== 'access-api.env') expect(Object.keys(env(f)), f).not.toContain('SPORBAR_MASTER_KEY_FILE');
    }
    // the gateway decides who may send what from the registry's allow-lists, without any producer's key
    expect(env('gateway.env')['SPORBAR_PRODUCER_REGISTRY']).toBe(join(dir, 'producers.allowlist.json'));
    const allowList = loadProducerRegistryFile(env('gateway.env')['SPORBAR_PRODUCER_REGISTRY']!);
    expect(allowList.keysOmitted).toBe(true);
    expect(allowList.producers.flatMap((p) => p.keys)).toEqual([]);
    expect(readFileSync(join(dir, 'producers.allowlist.json'), 'utf8')).not.toMatch(/secret/);
    // secrets only by *_FILE, paths absolute
    for (const f of ['ingest.env', 'access-api.env', 'gateway.env', 'retention.env', 'producer-mitid-core.env', 'log.env', 'auditor.env']) {
      for (const [k, v] of Object.entries(env(f))) if (k.endsWith('_FILE') || k === 'SPORBAR_PRODUCER_REGISTRY') expect(v.startsWith(dir), `${f} ${k}`).toBe(true);
      expect(Object.keys(env(f)).filter((k) => /KEY$|SECRET$|PASSWORD$/.test(k)), f).toEqual([]);
    }
  });

  it('projector, access API, gateway, auditor', () => {
    expect(projectorConfigFromEnv({ ...operatorAdds(), ...env('projector.env') }).store.adapter).toBe('postgres');
    const api = accessApiConfigFromEnv({ ...operatorAdds(), ...env('access-api.env') });
    expect(api.production).toBe(true);
    expect(api.producerKey.producerId).toBe('sporbar-access-api');
    expect(api.kafka.sasl).toMatchObject({ username: 'sporbar-access-api' });
    // the gateway's OAuth2 issuer and clients are the operator's (Keycloak): added as they would be
    const gw = readGatewayConfig({ ...operatorAdds(), ...env('gateway.env'), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid=mitid-core' });
    expect(gw.producerKey.producerId).toBe('http-ingest');
    expect(gw.kafka.sasl).toMatchObject({ username: 'producer-gateway' });
    const auditor = auditorConfigFromEnv({ DATABASE_URL: operatorAdds().DATABASE_URL, ...env('auditor.env') });
    expect(loadVerifyingKey(auditor.checkpointPublicKey!).keyId).toMatch(/^[0-9a-f]{8}$/);
  });

  it('the keys pair up: seal, routing, checkpoint, producer keys and the registry', async () => {
    const producer = env('producer-mitid-core.env');
    const read = (path: string) => readFileSync(path, 'utf8').trim();
    const sealer = createSubjectSealer(read(producer['SPORBAR_SEAL_PUBLIC_KEY_FILE']!));
    const opener = createSubjectOpener(read(env('ingest.env')['SPORBAR_SEAL_PRIVATE_KEY_FILE']!));
    expect(await opener.open(await sealer.seal('010190-1234'))).toBe('0101901234');
    const routing = (file: string) => routingKey('010190-1234', Buffer.from(read(env(file)['SPORBAR_ROUTING_SECRET_FILE']!), 'base64url'));
    expect(routing('producer-mitid-core.env')).toBe(routing('access-api.env'));
    expect(routing('gateway.env')).toBe(routing('retention.env'));

    const registry = loadProducerRegistryFile(env('ingest.env')['SPORBAR_PRODUCER_REGISTRY']!);
    const verify = createProducerVerifier(registry);
    for (const [file, id] of [['producer-mitid-core.env', 'mitid-core'], ['gateway.env', 'http-ingest'], ['access-api.env', 'sporbar-access-api'], ['retention.env', 'sporbar-retention']] as const) {
      const key = parseProducerKey(id, read(env(file)['SPORBAR_PRODUCER_KEY_FILE']!));
      const value = Buffer.from(`an event of ${id}`);
      expect(verify(value, createProducerSigner(key)(value)), file).toBe(id);
    }
    expect(registry.producers.map((p) => p.id)).toEqual(['mitid-core', 'mitid-support', 'nemkonto', 'sporbar-privacy-desk', 'http-ingest', 'sporbar-access-api', 'sporbar-retention']);
    expect(new Set(registry.producers.map((p) => p.keys[0]!.keyId))).toEqual(new Set(['p1']));

    const signer = loadSigningKey(read(env('log.env')['SPORBAR_CHECKPOINT_KEY_FILE']!));
    const note = signTreeHead({ origin: logOrigin('test'), treeSize: 1, rootHash: Buffer.alloc(32, 7) }, signer);
    expect(verifyTreeHead(note, read(env('auditor.env')['SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE']!)).ok).toBe(true);
  });

  it('the Kafka principals are the README table, valid for the provision command, with the password files', () => {
    const specs = JSON.parse(readFileSync(join(dir, 'kafka-principals.json'), 'utf8')) as KafkaPrincipalSpec[];
    validatePrincipals(specs);
    const acl = Object.fromEntries(specs.map((s) => [s.user, (s.allow ?? []).map((g) => `${g.ops.join('+')} ${'topic' in g ? `Topic:${g.topic}` : 'group' in g ? `Group:${g.group}` : '?'}`).sort()]));
    const write = ['Write Topic:sporbar.disclosures'];
    expect(acl).toEqual({
      'sporbar-ingest': ['Read Group:sporbar-ingest', 'Read Topic:sporbar.disclosures', 'Write Topic:sporbar.disclosures.dlq'],
      'producer-mitid-core': write,
      'producer-mitid-support': write,
      'producer-nemkonto': write,
      'producer-sporbar-privacy-desk': write,
      'producer-gateway': write,
      'sporbar-access-api': write,
      'sporbar-redrive': ['Read Group:sporbar.disclosures.dlq.redrive', 'Read Topic:sporbar.disclosures.dlq', 'Write Topic:sporbar.disclosures'],
      'sporbar-retention': write,
    });
    for (const s of specs) expect(readFileSync(join(dir, `kafka-${s.user}.password`), 'utf8').trim()).toBe(s.password);
    expect(new Set(specs.map((s) => s.password)).size).toBe(specs.length);
  });
});

describe('--register-dir: a deployment whose register has another authority\'s notice (files only)', () => {
  // schemas' fixture: the packaged notices plus eksempelby-borgerservice, whose activity eksempelby-case-handling the packaged register lacks.
  const FIXTURE = fileURLToPath(new URL('../../../schemas/test/fixtures/register-other-authority/', import.meta.url));
  let root: string;
  let template: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sporbar-keys-register-'));
    // The operator adds the new notice's system to a copy of the default template (the README: "Another authority's notice").
    const doc = JSON.parse(readFileSync(DEFAULT_TEMPLATE_FILE, 'utf8')) as { producers: object[] };
    doc.producers.push({ id: 'eksempelby-sag', name: 'Eksempelby case system', eventTypes: ['DisclosureRecorded'], activities: ['eksempelby-case-handling'] });
    template = join(root, 'producers.template.json');
    writeFileSync(template, JSON.stringify(doc));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const refused = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    return refusal(() => { throw err; });
  };

  it('writes a producer entry, key and env file for the new notice\'s activity, which the ingest and the gateway accept with SPORBAR_REGISTER_DIR', async () => {
    const dir = join(root, 'deployment');
    await keysInit(dir, { producers: template, registerDir: FIXTURE });
    const registry = JSON.parse(readFileSync(join(dir, 'producers.json'), 'utf8')) as { producers: Array<{ id: string; activities: unknown }> };
    expect(registry.producers.find((p) => p.id === 'eksempelby-sag')?.activities).toEqual(['eksempelby-case-handling']);
    expect(existsSync(join(dir, 'producer-eksempelby-sag.key'))).toBe(true);
    const envOf = (name: string): Record<string, string> => parseEnvFile(readFileSync(join(dir, name), 'utf8'));
    expect(existsSync(join(dir, 'producer-eksempelby-sag.env'))).toBe(true);
    const { config } = await loadIngestConfig({ ...operatorAdds(), ...envOf('ingest.env'), SPORBAR_REGISTER_DIR: FIXTURE });
    expect(config.producers.producers.find((p) => p.id === 'eksempelby-sag')?.activities).toEqual(['eksempelby-case-handling']);
    const gw = await loadGatewayConfig({ ...operatorAdds(), ...envOf('gateway.env'), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid=mitid-core', SPORBAR_REGISTER_DIR: FIXTURE });
    expect(gw.producers.producers.some((p) => p.id === 'eksempelby-sag')).toBe(true);
    // The packaged register has no such activity: the ingest started without SPORBAR_REGISTER_DIR refuses the registry.
    const err = refusal(() => ingestConfigFromEnv({ ...operatorAdds(), ...envOf('ingest.env') }));
    expect(variables(err)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
    expect(err.message).toContain('eksempelby-case-handling');
  });

  it('without --register-dir the template is checked against the packaged register and refused, nothing written; an invalid directory names --register-dir', async () => {
    const dir = join(root, 'packaged');
    const err = await refused(keysInit(dir, { producers: template }));
    expect(variables(err)).toEqual(['--producers']);
    expect(err.message).toContain('not an activity of the processing register: eksempelby-case-handling');
    expect(existsSync(join(dir, 'producers.json'))).toBe(false);
    expect(variables(await refused(keysInit(join(root, 'invalid'), { producers: template, registerDir: join(root, 'no-register') })))).toContain('--register-dir');
  });
});
