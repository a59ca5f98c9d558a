import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { devPublicKey } from '../src/auth.ts';
import { accessApiConfigFromEnv } from '../src/config.ts';
import { developmentProducerKey, formatProducerKey } from '@sporbar/key-store';

const key = () => randomBytes(32).toString('base64url');
const pem = (k: import('node:crypto').KeyObject) => k.export({ format: 'pem', type: 'spki' }).toString();
const jwtKey = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
/** A witness policy file (C2SP tlog-policy): `quorum none`, the explicit way to run without witnesses. */
const policyFile = (text = 'quorum none\n') => {
  const file = join(mkdtempSync(join(tmpdir(), 'sporbar-api-policy-')), 'policy.txt');
  writeFileSync(file, text);
  return file;
};
const complete = {
  SPORBAR_SEAL_PUBLIC_KEY: key(),
  SPORBAR_ROUTING_SECRET: key(),
  SPORBAR_PSEUDONYM_KEY: key(),
  SPORBAR_MASTER_KEY: key(),
  SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-access-api')),
  SPORBAR_JWT_PUBLIC_KEY: jwtKey,
  SPORBAR_LOG_URL: 'http://127.0.0.1:3200',
  SPORBAR_WITNESS_POLICY_FILE: policyFile(),
  SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(32, 9).toString('base64url'),
};


describe('the access API configuration', () => {
  it('keeps the documented defaults', () => {
    expect(accessApiConfigFromEnv(complete)).toMatchObject({
      logLevel: 'info',
      host: '127.0.0.1',
      port: 3000,
      production: true,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/sporbar',
      poolSize: 10,
      kafka: { brokers: ['127.0.0.1:9092'] },
      topic: 'sporbar.disclosures',
      spoolDir: 'data/access-api-spool',
      lingerMs: 20,
      pseudonymKey: { id: 'k1' },
      previousPseudonymKeys: [],
      masterKey: { id: 'm1' },
      rateLimitPerMinute: 600,
      selfViews: 'async',
      tokenCacheSize: 10_000,
    });
  });

  it('requires the log service (SPORBAR_LOG_URL) unless SPORBAR_ENV=development, and an http(s) URL', () => {
    const { SPORBAR_LOG_URL: _l, ...rest } = complete;
    expect(variables(refusal(() => accessApiConfigFromEnv(rest)))).toEqual(['SPORBAR_LOG_URL']);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...rest, SPORBAR_ENV: 'Development' })))).toEqual(['SPORBAR_LOG_URL']);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_LOG_URL: 'log-service:3200' })))).toEqual(['SPORBAR_LOG_URL']);
    expect(accessApiConfigFromEnv({ ...rest, SPORBAR_ENV: 'development', SPORBAR_JWT_PUBLIC_KEY: jwtKey }).logUrl).toBeUndefined();
    expect(accessApiConfigFromEnv(complete)).toMatchObject({ logUrl: 'http://127.0.0.1:3200', logTimeoutMs: 2000 });
  });

  it('its ReportViewed producer principal: TLS and SCRAM, never SCRAM without TLS', () => {
    const scram = { KAFKA_SASL_USERNAME: 'sporbar-access-api', KAFKA_SASL_PASSWORD: 'api-password-0123' };
    expect(accessApiConfigFromEnv({ ...complete, ...scram, KAFKA_SSL: 'true' }).kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'sporbar-access-api', password: 'api-password-0123' },
    });
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, ...scram })))).toEqual(['KAFKA_SASL_USERNAME']);
  });

  it('requires the subject map key (SPORBAR_SUBJECT_MAP_KEY, ≥ 32 bytes) unless SPORBAR_ENV=development', () => {
    const { SPORBAR_SUBJECT_MAP_KEY: _k, ...rest } = complete;
    expect(variables(refusal(() => accessApiConfigFromEnv(rest)))).toEqual(['SPORBAR_SUBJECT_MAP_KEY']);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(31).toString('base64url') })))).toEqual(['SPORBAR_SUBJECT_MAP_KEY']);
    expect(accessApiConfigFromEnv(complete).subjectMapKey).toEqual(Buffer.alloc(32, 9));
    expect(accessApiConfigFromEnv({ ...rest, SPORBAR_ENV: 'development' }).subjectMapKey).toBeUndefined();
  });

  it('requires a witness policy (SPORBAR_WITNESS_POLICY_FILE) unless SPORBAR_ENV=development, and a valid one', () => {
    const { SPORBAR_WITNESS_POLICY_FILE: _p, ...rest } = complete;
    expect(variables(refusal(() => accessApiConfigFromEnv(rest)))).toEqual(['SPORBAR_WITNESS_POLICY_FILE']);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_WITNESS_POLICY_FILE: policyFile('quorum somebody\n') })))).toEqual(['SPORBAR_WITNESS_POLICY_FILE']);
    expect(accessApiConfigFromEnv({ ...rest, SPORBAR_ENV: 'development', SPORBAR_JWT_PUBLIC_KEY: jwtKey }).witnessPolicy).toBeUndefined();
    expect(accessApiConfigFromEnv(complete).witnessPolicy?.policy.quorum).toBe('none');
  });

  it('requires the seal public key and the routing secret (shared with the producers)', () => {
    const { SPORBAR_SEAL_PUBLIC_KEY: _s, SPORBAR_ROUTING_SECRET: _r, ...rest } = complete;
    expect(variables(refusal(() => accessApiConfigFromEnv(rest)))).toEqual(['SPORBAR_SEAL_PUBLIC_KEY', 'SPORBAR_ROUTING_SECRET']);
  });

  it('several problems: one SPB_ERR_CONFIG naming all of them', () => {
    const err = refusal(() =>
      accessApiConfigFromEnv({
        PORT: 'http',
        SPORBAR_SELF_VIEWS: 'sometimes',
        SPORBAR_ROUTING_SECRET: 'c2hvcnQ',
        SPORBAR_PSEUDONYM_PREVIOUS_KEYS: 'k0',
        SPORBAR_JWT_PUBLIC_KEY: 'not a pem',
        TOKEN_CACHE_SIZE: '-1',
      }),
    );
    expect(variables(err)).toEqual([
      'PORT',
      'SPORBAR_SEAL_PUBLIC_KEY',
      'SPORBAR_ROUTING_SECRET',
      'SPORBAR_PSEUDONYM_KEY',
      'SPORBAR_PRODUCER_KEY',
      'SPORBAR_PSEUDONYM_PREVIOUS_KEYS',
      'SPORBAR_MASTER_KEY',
      'SPORBAR_JWT_PUBLIC_KEY',
      'SPORBAR_SELF_VIEWS',
      'TOKEN_CACHE_SIZE',
    ]);
  });

  it('in production, refuses the development JWT key and a previous pseudonym key id that repeats the current one', () => {
    const err = refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_JWT_PUBLIC_KEY: pem(devPublicKey()), SPORBAR_PSEUDONYM_PREVIOUS_KEYS: `k1:${key()}` }));
    expect(variables(err)).toEqual(['SPORBAR_PSEUDONYM_PREVIOUS_KEYS', 'SPORBAR_JWT_PUBLIC_KEY']);
    expect(accessApiConfigFromEnv({ ...complete, SPORBAR_ENV: 'development', SPORBAR_JWT_PUBLIC_KEY: pem(devPublicKey()) }).production).toBe(false);
  });
});

describe('SPORBAR_ENV fails closed', () => {
  const dev = pem(devPublicKey());
  it.each(['Production', 'prod', 'dev', 'Development', 'development ', ' development', 'DEVELOPMENT', '', 'test', 'production'])('%j is production: the development JWT key is refused', (value) => {
    expect(accessApiConfigFromEnv({ ...complete, SPORBAR_ENV: value }).production).toBe(true);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_ENV: value, SPORBAR_JWT_PUBLIC_KEY: dev })))).toEqual(['SPORBAR_JWT_PUBLIC_KEY']);
  });
  it('unset is production', () => {
    expect(accessApiConfigFromEnv(complete).production).toBe(true);
    expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_JWT_PUBLIC_KEY: dev })))).toEqual(['SPORBAR_JWT_PUBLIC_KEY']);
  });
  it('only exactly "development" is development', () => {
    expect(accessApiConfigFromEnv({ ...complete, SPORBAR_ENV: 'development', SPORBAR_JWT_PUBLIC_KEY: dev }).production).toBe(false);
  });
});

describe('TOKEN_MAX_LIFETIME_SECONDS', () => {
  it('defaults to one hour and refuses nonsense', () => {
    expect(accessApiConfigFromEnv(complete).tokenMaxLifetimeSeconds).toBe(3600);
    expect(accessApiConfigFromEnv({ ...complete, TOKEN_MAX_LIFETIME_SECONDS: '300' }).tokenMaxLifetimeSeconds).toBe(300);
    for (const bad of ['0', '-5', 'an hour', '100000']) expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, TOKEN_MAX_LIFETIME_SECONDS: bad })))).toEqual(['TOKEN_MAX_LIFETIME_SECONDS']);
  });
});

describe("the proof downloads' event store (SPORBAR_STORE, EVENT_STORE_DATABASE_URL)", () => {
  it('is off unless SPORBAR_STORE is set; postgres in the read models\' database unless EVENT_STORE_DATABASE_URL says otherwise', () => {
    expect(accessApiConfigFromEnv(complete).eventStore).toBeUndefined();
    expect(accessApiConfigFromEnv({ ...complete, SPORBAR_STORE: 'postgres', DATABASE_URL: 'postgres://rm@db/sporbar' }).eventStore).toEqual({ adapter: 'postgres', connectionString: 'postgres://rm@db/sporbar' });
    expect(accessApiConfigFromEnv({ ...complete, SPORBAR_STORE: 'postgres', EVENT_STORE_DATABASE_URL: 'postgres://es@store/events' }).eventStore).toEqual({ adapter: 'postgres', connectionString: 'postgres://es@store/events' });
  });

  it('refuses an adapter that cannot read an event by its id', () => {
    for (const bad of ['eventstoredb', 'pglite', 'yes']) expect(variables(refusal(() => accessApiConfigFromEnv({ ...complete, SPORBAR_STORE: bad })))).toEqual(['SPORBAR_STORE']);
  });
});
