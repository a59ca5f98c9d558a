import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configRefusal as refusal, refusedVariables as variables } from '../../common/test/support/config-refusal.ts';
import { readGatewayConfig } from '../src/config.ts';

const key = () => randomBytes(32).toString('base64url');


describe('the producer gateway configuration', () => {
  it('keeps the documented defaults', () => {
    const keys = { SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key() };
    expect(readGatewayConfig(keys)).toEqual({
      host: '127.0.0.1',
      port: 3100,
      logLevel: 'info',
      brokers: ['127.0.0.1:9092'],
      topic: 'sporbar.disclosures',
      spoolDir: 'data/http-ingest-spool',
      sealPublicKey: keys.SPORBAR_SEAL_PUBLIC_KEY,
      routingSecret: keys.SPORBAR_ROUTING_SECRET,
      sourceSystem: 'http-ingest',
    });
  });

  it('lists every problem at once, and never shows a secret', () => {
    const short = randomBytes(8).toString('base64url');
    const err = refusal(() => readGatewayConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', SPORBAR_ROUTING_SECRET: short }));
    expect(variables(err).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SPORBAR_ROUTING_SECRET', 'SPORBAR_SEAL_PUBLIC_KEY']);
    expect(err.message).not.toContain(short);
  });
});
