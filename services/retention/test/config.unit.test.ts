import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { developmentProducerKey, formatProducerKey } from '@sporbar/key-store/producer-auth';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { advisoryLockKey, retentionConfigFromEnv } from '../src/index.ts';

const key = () => randomBytes(32).toString('base64url');
const complete = {
  SPORBAR_SEAL_PUBLIC_KEY: key(),
  SPORBAR_ROUTING_SECRET: key(),
  SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-retention')),
};

describe('the retention worker configuration', () => {
  it('keeps the documented defaults', () => {
    expect(retentionConfigFromEnv(complete)).toMatchObject({
      logLevel: 'info',
      readModelsDatabaseUrl: 'postgres://postgres@127.0.0.1:5432/sporbar',
      intervalSeconds: 60,
      kafka: { brokers: ['127.0.0.1:9092'] },
      topic: 'sporbar.disclosures',
      spoolDir: 'data/retention-spool',
      producerKey: { producerId: 'sporbar-retention' },
      metricsHost: '127.0.0.1',
      metricsPort: 9466,
    });
  });

  it('reads the read models from READ_MODELS_DATABASE_URL over DATABASE_URL', () => {
    expect(retentionConfigFromEnv({ ...complete, DATABASE_URL: 'postgres://a/x' }).readModelsDatabaseUrl).toBe('postgres://a/x');
    expect(retentionConfigFromEnv({ ...complete, DATABASE_URL: 'postgres://a/x', READ_MODELS_DATABASE_URL: 'postgres://b/y' }).readModelsDatabaseUrl).toBe('postgres://b/y');
  });

  it('lists every problem at once: missing keys, a bad interval, a bad port', () => {
    const err = refusal(() => retentionConfigFromEnv({ SPORBAR_RETENTION_INTERVAL_SECONDS: '0', METRICS_PORT: '70000' }));
    expect(variables(err).sort()).toEqual(['METRICS_PORT', 'SPORBAR_PRODUCER_KEY', 'SPORBAR_RETENTION_INTERVAL_SECONDS', 'SPORBAR_ROUTING_SECRET', 'SPORBAR_SEAL_PUBLIC_KEY']);
  });

  it('refuses SCRAM credentials without TLS, without showing the password', () => {
    const err = refusal(() => retentionConfigFromEnv({ ...complete, KAFKA_SASL_USERNAME: 'sporbar-retention', KAFKA_SASL_PASSWORD: 'pw-not-shown' }));
    expect(variables(err)).toEqual(['KAFKA_SASL_USERNAME']);
    expect(err.message).not.toContain('pw-not-shown');
  });

  it('refuses a producer key of another principal', () => {
    const err = refusal(() => retentionConfigFromEnv({ ...complete, SPORBAR_PRODUCER_KEY: 'hmac-sha256:dev1' }));
    expect(variables(err)).toEqual(['SPORBAR_PRODUCER_KEY']);
  });

  it('derives one lock key per name, as a signed bigint', () => {
    const k = advisoryLockKey('sporbar-retention');
    expect(k).toBe(advisoryLockKey('sporbar-retention'));
    expect(k).not.toBe(advisoryLockKey('sporbar-retention2'));
    expect(k >= -(2n ** 63n) && k < 2n ** 63n).toBe(true);
  });
});
