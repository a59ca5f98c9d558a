import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaClientEnv, kafkaClientOptionsFrom, loadConfig } from '../src/config.ts';
import { configRefusal, refusedVariables } from './support/config-refusal.ts';

// A CA certificate (no key) made once with openssl for this test.
const CA_FILE = new URL('./fixtures/test-ca.crt', import.meta.url).pathname;
const CA = readFileSync(CA_FILE, 'utf8');
const load = (env: Record<string, string>) => loadConfig('test', kafkaClientEnv, env, (v, problems) => kafkaClientOptionsFrom(v, problems));

describe('kafkaClientEnv / kafkaClientOptionsFrom', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-kafka-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('KAFKA_BROKERS alone is plaintext', () => {
    expect(load({})).toEqual({ brokers: ['127.0.0.1:9092'] });
    expect(load({ KAFKA_BROKERS: 'a:1, b:2' })).toEqual({ brokers: ['a:1', 'b:2'] });
  });

  it('a CA file is TLS trusting that CA; KAFKA_SSL=true is TLS with the system CAs', () => {
    expect(load({ KAFKA_BROKERS: 'k:9093', KAFKA_CA_FILE: CA_FILE })).toEqual({ brokers: ['k:9093'], ssl: { ca: [CA] } });
    expect(load({ KAFKA_SSL: 'true' })).toEqual({ brokers: ['127.0.0.1:9092'], ssl: true });
  });

  it('SCRAM credentials over TLS, the password from the variable or from its _FILE', () => {
    const file = join(dir, 'password');
    writeFileSync(file, 'from-the-file-0123\n');
    const sasl = (username: string, password: string) => ({ mechanism: 'scram-sha-512', username, password });
    expect(load({ KAFKA_CA_FILE: CA_FILE, KAFKA_SASL_USERNAME: 'sporbar-ingest', KAFKA_SASL_PASSWORD: 'p4ssword-0123' })).toEqual({
      brokers: ['127.0.0.1:9092'],
      ssl: { ca: [CA] },
      sasl: sasl('sporbar-ingest', 'p4ssword-0123'),
    });
    expect(load({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: file }).sasl).toEqual(sasl('u', 'from-the-file-0123'));
  });

  it('refuses credentials without TLS, without ever showing the password', () => {
    const err = configRefusal(() => load({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'secret-never-shown' }));
    expect(refusedVariables(err)).toEqual(['KAFKA_SASL_USERNAME']);
    expect(err.message).toMatch(/without TLS are refused/);
    expect(err.message).not.toContain('secret-never-shown');
    // KAFKA_SSL=false is not TLS either
    expect(refusedVariables(configRefusal(() => load({ KAFKA_SSL: 'false', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'x' })))).toEqual(['KAFKA_SASL_USERNAME']);
  });

  it('refuses half a SCRAM pair, an unknown mechanism, a bad KAFKA_SSL', () => {
    expect(refusedVariables(configRefusal(() => load({ KAFKA_SSL: 'true', KAFKA_SASL_USERNAME: 'u' })))).toEqual(['KAFKA_SASL_PASSWORD']);
    expect(refusedVariables(configRefusal(() => load({ KAFKA_SSL: 'true', KAFKA_SASL_PASSWORD: 'p' })))).toEqual(['KAFKA_SASL_USERNAME']);
    expect(refusedVariables(configRefusal(() => load({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain' })))).toEqual(['KAFKA_SASL_MECHANISM']);
    expect(refusedVariables(configRefusal(() => load({ KAFKA_SSL: 'yes please' })))).toEqual(['KAFKA_SSL']);
  });

  it('refuses a CA file that cannot be read or holds no certificate', () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    const missing = configRefusal(() => load({ KAFKA_CA_FILE: join(dir, 'nope.pem') }));
    expect(refusedVariables(missing)).toEqual(['KAFKA_CA_FILE']);
    expect(missing.message).toMatch(/cannot read .*ENOENT/);
    expect(configRefusal(() => load({ KAFKA_CA_FILE: junk })).message).toMatch(/holds no PEM certificate/);
  });
});
