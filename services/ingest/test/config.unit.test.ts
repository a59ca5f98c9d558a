import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { ingestConfigFromEnv, loadIngestConfig, redriveConfigFromEnv } from '../src/config.ts';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE } from '@sporbar/key-store';

const key = () => randomBytes(32).toString('base64url');
const keys = { SPORBAR_SEAL_PRIVATE_KEY: key(), SPORBAR_PSEUDONYM_KEY: key(), SPORBAR_MASTER_KEY: key(), SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE, SPORBAR_ENV: 'development' };


describe('the ingest configuration', () => {
  it('keeps the documented defaults', () => {
    const c = ingestConfigFromEnv(keys);
    expect({ ...c, masterKey: undefined, producers: undefined }).toEqual({
      logLevel: 'info',
      kafka: { brokers: ['127.0.0.1:9092'] },
      topic: 'sporbar.disclosures',
      dlqTopic: 'sporbar.disclosures.dlq',
      groupId: 'sporbar-ingest',
      partitions: 6,
      concurrency: 3,
      store: { adapter: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:5432/sporbar' },
      keysDatabaseUrl: 'postgres://postgres@127.0.0.1:5432/sporbar',
      sealPrivateKey: keys.SPORBAR_SEAL_PRIVATE_KEY,
      previousSealPrivateKeys: [],
      pseudonymKey: { id: 'k1', secret: keys.SPORBAR_PSEUDONYM_KEY },
      previousPseudonymKeys: [],
      previousMasterKeys: [],
      masterKey: undefined,
      producers: undefined,
      metricsHost: '127.0.0.1',
      metricsPort: 9464,
      unauthenticatedProducers: false,
    });
    expect(c.producers.producers.map((p) => p.id)).toContain('mitid-core');
    expect(c.masterKey.id).toBe('m1');
    expect(ingestConfigFromEnv({ ...keys, SPORBAR_TOPIC: 't', KAFKA_BROKERS: 'a:1, b:2' })).toMatchObject({ dlqTopic: 't.dlq', kafka: { brokers: ['a:1', 'b:2'] } });
  });

  it('Kafka over TLS with SCRAM for run and redrive; SCRAM credentials without TLS are refused at start', () => {
    const secured = { KAFKA_BROKERS: 'k:9093', KAFKA_SSL: 'true', KAFKA_SASL_USERNAME: 'sporbar-ingest', KAFKA_SASL_PASSWORD: 'p4ssword-p4ssword' };
    const kafka = { brokers: ['k:9093'], ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'sporbar-ingest', password: 'p4ssword-p4ssword' } };
    expect(ingestConfigFromEnv({ ...keys, ...secured }).kafka).toEqual(kafka);
    expect(redriveConfigFromEnv(secured).kafka).toEqual(kafka);
    for (const load of [() => ingestConfigFromEnv({ ...keys, ...secured, KAFKA_SSL: 'false' }), () => redriveConfigFromEnv({ ...secured, KAFKA_SSL: 'false' })]) {
      const err = refusal(load);
      expect(variables(err)).toEqual(['KAFKA_SASL_USERNAME']);
      expect(err.message).not.toContain('p4ssword');
    }
  });

  it('several problems: one SPB_ERR_CONFIG naming all of them', () => {
    const err = refusal(() =>
      ingestConfigFromEnv({
        SPORBAR_PARTITIONS: '0',
        SPORBAR_INGEST_CONCURRENCY: 'many',
        SPORBAR_STORE: 'mongo',
        SPORBAR_PSEUDONYM_KEY: 'c2hvcnQ',
        SPORBAR_MASTER_KEY: Buffer.alloc(32).toString('base64url'),
        SPORBAR_MASTER_KEY_ID: 'Not-An-Id',
        METRICS_PORT: '70000',
      }),
    );
    expect(variables(err)).toEqual([
      'SPORBAR_PARTITIONS',
      'SPORBAR_INGEST_CONCURRENCY',
      'SPORBAR_STORE',
      'SPORBAR_SEAL_PRIVATE_KEY',
      'SPORBAR_PSEUDONYM_KEY',
      'SPORBAR_MASTER_KEY',
      'SPORBAR_MASTER_KEY_ID',
      'SPORBAR_PRODUCER_REGISTRY',
      'METRICS_PORT',
    ]);
    expect(err.message).toContain('SPORBAR_MASTER_KEY          the master key is a placeholder');
  });

  it('the producer registry: refused when unreadable or invalid, and the development one unless SPORBAR_ENV=development exactly', () => {
    for (const env of ['production', 'Development', 'dev', '']) {
      const err = refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_ENV: env }));
      expect(variables(err)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
      expect(err.message).toContain('development producer registry');
    }
    expect(variables(refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_PRODUCER_REGISTRY: '/nonexistent/registry.json' })))).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
    expect(variables(refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_PRODUCER_REGISTRY: new URL(import.meta.url).pathname })))).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
  });

  it('producer authentication off (the bench\'s other side): only with SPORBAR_ENV=development exactly, refused in production', () => {
    // A registry that is not the development one, so production gets past the registry check and the switch alone is refused.
    const dir = mkdtempSync(join(tmpdir(), 'sporbar-ingest-config-'));
    const registry = join(dir, 'producers.json');
    const { development: _, ...production } = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as Record<string, unknown>;
    writeFileSync(registry, JSON.stringify(production));
    try {
      const prod = { ...keys, SPORBAR_PRODUCER_REGISTRY: registry };
      expect(ingestConfigFromEnv({ ...prod, SPORBAR_ENV: 'production' }).unauthenticatedProducers).toBe(false);
      for (const env of [undefined, 'production', 'Development', 'dev', 'development ', '']) {
        const err = refusal(() => ingestConfigFromEnv({ ...prod, SPORBAR_ENV: env, SPORBAR_INSECURE_NO_PRODUCER_AUTH: 'true' }));
        expect(variables(err)).toEqual(['SPORBAR_INSECURE_NO_PRODUCER_AUTH']);
        expect(err.message).toContain('refused unless SPORBAR_ENV=development');
      }
      expect(variables(refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_INSECURE_NO_PRODUCER_AUTH: 'yes' })))).toEqual(['SPORBAR_INSECURE_NO_PRODUCER_AUTH']);
      expect(ingestConfigFromEnv({ ...keys, SPORBAR_INSECURE_NO_PRODUCER_AUTH: 'false' }).unauthenticatedProducers).toBe(false);
      expect(ingestConfigFromEnv({ ...keys, SPORBAR_INSECURE_NO_PRODUCER_AUTH: 'true' }).unauthenticatedProducers).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('EventStoreDB needs its URL; the subject keys stay in DATABASE_URL', () => {
    expect(variables(refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_STORE: 'eventstoredb' })))).toEqual(['EVENTSTORE_URL']);
    expect(ingestConfigFromEnv({ ...keys, SPORBAR_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://h', DATABASE_URL: 'postgres://k/db' })).toMatchObject({
      store: { adapter: 'eventstoredb', connectionString: 'esdb://h' },
      keysDatabaseUrl: 'postgres://k/db',
    });
  });

  it('previous seal keys (a seal key rotation): a list of 32-byte keys, each checked, none echoed', () => {
    const [a, b] = [key(), key()];
    expect(ingestConfigFromEnv({ ...keys, SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS: ` ${a}, ${b},` }).previousSealPrivateKeys).toEqual([a, b]);
    const err = refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS: `${a},c2hvcnQ` }));
    expect(variables(err)).toEqual(['SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS']);
    expect(err.message).not.toContain(a);
  });

  it('rotation: previous master keys and previous pseudonym keys are checked like the current ones', () => {
    const old = key();
    const c = ingestConfigFromEnv({ ...keys, SPORBAR_MASTER_KEY_ID: 'm2', SPORBAR_MASTER_PREVIOUS_KEYS: `m1:${old}`, SPORBAR_PSEUDONYM_KEY_ID: 'k2', SPORBAR_PSEUDONYM_PREVIOUS_KEYS: `k1:${old}` });
    expect(c.previousMasterKeys.map((k) => [k.id, k.key.toString('base64url')])).toEqual([['m1', old]]);
    expect(c.previousPseudonymKeys).toEqual([{ id: 'k1', secret: old }]);
    const err = refusal(() =>
      ingestConfigFromEnv({ ...keys, SPORBAR_MASTER_PREVIOUS_KEYS: `m1:${Buffer.alloc(32).toString('base64url')}`, SPORBAR_PSEUDONYM_PREVIOUS_KEYS: `k1:${old}` }),
    );
    // a placeholder master (checks across variables, like a previous pseudonym key with the current key's id, run once each variable is valid)
    expect(variables(err)).toEqual(['SPORBAR_MASTER_PREVIOUS_KEYS']);
    expect(variables(refusal(() => ingestConfigFromEnv({ ...keys, SPORBAR_PSEUDONYM_PREVIOUS_KEYS: `k1:${old}` })))).toEqual(['SPORBAR_PSEUDONYM_PREVIOUS_KEYS']);
    expect(err.message).not.toContain(old);
  });

  it('redrive needs the topics only', () => {
    expect(redriveConfigFromEnv({ SPORBAR_DLQ_TOPIC: 'dead' })).toEqual({ logLevel: 'info', kafka: { brokers: ['127.0.0.1:9092'] }, topic: 'sporbar.disclosures', dlqTopic: 'dead' });
  });

  describe('the producer registry is checked against the register the ingest runs with (SPORBAR_REGISTER_DIR)', () => {
    // Another authority's notice as files only: eksempelby-case-handling is an activity of it, not of the packaged register.
    const FIXTURE = fileURLToPath(new URL('../../../schemas/test/fixtures/register-other-authority/', import.meta.url));
    const withNewActivity = (): { dir: string; env: Record<string, string> } => {
      const dir = mkdtempSync(join(tmpdir(), 'sporbar-ingest-register-'));
      const doc = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as { producers: object[] };
      doc.producers.push({
        id: 'eksempelby-sag', name: 'Eksempelby case system', eventTypes: ['DisclosureRecorded'], activities: ['eksempelby-case-handling'],
        keys: [{ keyId: 'p1', algorithm: 'hmac-sha256', secret: key() }],
      });
      writeFileSync(join(dir, 'producers.json'), JSON.stringify(doc));
      return { dir, env: { ...keys, SPORBAR_PRODUCER_REGISTRY: join(dir, 'producers.json') } };
    };

    it('accepts a producer allowed eksempelby-case-handling when SPORBAR_REGISTER_DIR has that notice, refuses it with the packaged register', async () => {
      const { dir, env } = withNewActivity();
      try {
        const { config, registerFiles } = await loadIngestConfig({ ...env, SPORBAR_REGISTER_DIR: FIXTURE });
        expect(config.registerDir).toBe(FIXTURE);
        expect(registerFiles.versions.map((v) => v.file.notice)).toContain('eksempelby-borgerservice');
        expect(config.producers.producers.find((p) => p.id === 'eksempelby-sag')?.activities).toEqual(['eksempelby-case-handling']);

        const err = await loadIngestConfig(env).then(() => undefined, (e: unknown) => e);
        const refused = refusal(() => { throw err; });
        expect(variables(refused)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
        expect(refused.message).toContain('not an activity of the processing register: eksempelby-case-handling');
        expect(variables(refusal(() => ingestConfigFromEnv(env)))).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('with SPORBAR_REGISTER_DIR set, a configuration read without loading it refuses the producer registry rather than check it against the packaged register', () => {
      const { dir, env } = withNewActivity();
      try {
        const err = refusal(() => ingestConfigFromEnv({ ...env, SPORBAR_REGISTER_DIR: FIXTURE }));
        expect(variables(err)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
        expect(err.message).toContain('loadIngestConfig');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an invalid SPORBAR_REGISTER_DIR is SPB_ERR_CONFIG naming it', async () => {
      const err = await loadIngestConfig({ ...keys, SPORBAR_REGISTER_DIR: '/nonexistent/register' }).then(() => undefined, (e: unknown) => e);
      expect(variables(refusal(() => { throw err; }))).toContain('SPORBAR_REGISTER_DIR');
    });
  });
});
