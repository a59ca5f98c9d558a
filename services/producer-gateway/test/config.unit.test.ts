import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { developmentProducerKey, formatProducerKey } from '@sporbar/key-store/producer-auth';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE } from '@sporbar/key-store';
import { loadGatewayConfig, readGatewayConfig } from '../src/config.ts';

const registry = { SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE, SPORBAR_ENV: 'development' };

const key = () => randomBytes(32).toString('base64url');


describe('the producer gateway configuration', () => {
  it('keeps the documented defaults', () => {
    const keys = { SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-core', SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')), ...registry };
    const config = readGatewayConfig(keys);
    expect(config.clients.get('mitid-gw')).toEqual({ clientId: 'mitid-gw', producerId: 'mitid-core' });
    expect(config.producers.producers.find((p) => p.id === 'mitid-core')).toMatchObject({ eventTypes: ['DisclosureRecorded', 'ConsentGiven', 'ConsentWithdrawn'], keys: [] });
    expect({ ...config, clients: undefined, producers: undefined }).toEqual({
      host: '127.0.0.1',
      port: 3100,
      logLevel: 'info',
      kafka: { brokers: ['127.0.0.1:9092'] },
      topic: 'sporbar.disclosures',
      spoolDir: 'data/http-ingest-spool',
      sealPublicKey: keys.SPORBAR_SEAL_PUBLIC_KEY,
      routingSecret: keys.SPORBAR_ROUTING_SECRET,
      issuer: 'https://idp.example/realms/sporbar',
      audience: 'sporbar-producer-gateway',
      clients: undefined,
      producers: undefined,
      tokenMaxLifetimeSeconds: 3600,
      clockSkewSeconds: 10,
      rateLimit: { max: 600, windowMs: 60_000 },
        producerKey: developmentProducerKey('http-ingest'),
    });
  });

  it('its Kafka producer principal: TLS and SCRAM, never SCRAM without TLS', () => {
    const keys = { SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-core', SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')), ...registry };
    const scram = { KAFKA_SASL_USERNAME: 'producer-gateway', KAFKA_SASL_PASSWORD: 'gw-password-0123' };
    expect(readGatewayConfig({ ...keys, ...scram, KAFKA_SSL: 'true' }).kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'producer-gateway', password: 'gw-password-0123' },
    });
    expect(variables(refusal(() => readGatewayConfig({ ...keys, ...scram })))).toEqual(['KAFKA_SASL_USERNAME']);
  });

  it('lists every problem at once, and never shows a secret', () => {
    const short = randomBytes(8).toString('base64url');
    const err = refusal(() => readGatewayConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', SPORBAR_ROUTING_SECRET: short }));
    expect(variables(err).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SPORBAR_GATEWAY_CLIENTS', 'SPORBAR_GATEWAY_ISSUER', 'SPORBAR_PRODUCER_KEY', 'SPORBAR_PRODUCER_REGISTRY', 'SPORBAR_ROUTING_SECRET', 'SPORBAR_SEAL_PUBLIC_KEY']);
    expect(err.message).not.toContain(short);
  });

  it('refuses an issuer that is not an http(s) URL and a client list that allows nothing', () => {
    const err = refusal(() =>
      readGatewayConfig({ SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_GATEWAY_ISSUER: 'idp.example', SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-core:ConsentGiven', SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')), ...registry }),
    );
    expect(variables(err).sort()).toEqual(['SPORBAR_GATEWAY_CLIENTS', 'SPORBAR_GATEWAY_ISSUER']);
  });

  it('the producer registry: the development one only with SPORBAR_ENV=development exactly; every client a producer the registry and the gateway entry allow', () => {
    const base = { SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-core', SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')), ...registry };
    for (const env of [undefined, 'production', 'Development', 'dev', '']) {
      const err = refusal(() => readGatewayConfig({ ...base, SPORBAR_ENV: env }));
      expect(variables(err)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
      expect(err.message).toContain('development producer registry');
    }
    expect(variables(refusal(() => readGatewayConfig({ ...base, SPORBAR_PRODUCER_REGISTRY: '/nonexistent/registry.json' })))).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
    const err = refusal(() => readGatewayConfig({ ...base, SPORBAR_GATEWAY_CLIENTS: 'a=stranger,b=sporbar-retention,c=nemkonto' }));
    expect(variables(err)).toEqual(['SPORBAR_GATEWAY_CLIENTS', 'SPORBAR_GATEWAY_CLIENTS']);
    expect(err.message).toContain('producer stranger is not in the producer registry');
    expect(err.message).toContain("sporbar-retention is one of Sporbar's own principals");
  });

  it('the producer registry is checked against SPORBAR_REGISTER_DIR when set: an activity of a notice added as files only is accepted there, refused with the packaged register', async () => {
    // Another authority's notice as files only: eksempelby-case-handling is an activity of it, not of the packaged register.
    const FIXTURE = fileURLToPath(new URL('../../../schemas/test/fixtures/register-other-authority/', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'sporbar-gateway-register-'));
    try {
      const doc = JSON.parse(readFileSync(DEVELOPMENT_PRODUCER_REGISTRY_FILE, 'utf8')) as { producers: object[] };
      doc.producers.push({
        id: 'eksempelby-sag', name: 'Eksempelby case system', eventTypes: ['DisclosureRecorded'], activities: ['eksempelby-case-handling'],
        keys: [{ keyId: 'p1', algorithm: 'hmac-sha256', secret: key() }],
      });
      writeFileSync(join(dir, 'producers.json'), JSON.stringify(doc));
      const env = {
        SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_GATEWAY_ISSUER: 'https://idp.example/realms/sporbar', SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-core',
        SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')), ...registry, SPORBAR_PRODUCER_REGISTRY: join(dir, 'producers.json'),
      };
      const config = await loadGatewayConfig({ ...env, SPORBAR_REGISTER_DIR: FIXTURE });
      expect(config.registerDir).toBe(FIXTURE);
      expect(config.producers.producers.find((p) => p.id === 'eksempelby-sag')?.activities).toEqual(['eksempelby-case-handling']);

      const err = await loadGatewayConfig(env).then(() => undefined, (e: unknown) => e);
      const refused = refusal(() => { throw err; });
      expect(variables(refused)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
      expect(refused.message).toContain('not an activity of the processing register: eksempelby-case-handling');
      // Read without loading the directory it names: refused, not checked against the packaged register.
      const unloaded = refusal(() => readGatewayConfig({ ...env, SPORBAR_REGISTER_DIR: FIXTURE }));
      expect(variables(unloaded)).toEqual(['SPORBAR_PRODUCER_REGISTRY']);
      expect(unloaded.message).toContain('loadGatewayConfig');
      const invalid = await loadGatewayConfig({ ...env, SPORBAR_REGISTER_DIR: join(dir, 'no-register') }).then(() => undefined, (e: unknown) => e);
      expect(variables(refusal(() => { throw invalid; }))).toContain('SPORBAR_REGISTER_DIR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
