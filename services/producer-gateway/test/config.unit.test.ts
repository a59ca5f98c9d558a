import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSporbarError, type SporbarError } from '@sporbar/common/errors';
import { developmentProducerKey, formatProducerKey } from '@sporbar/key-store/producer-auth';
import { readGatewayConfig } from '../src/config.ts';

const key = () => randomBytes(32).toString('base64url');

function refusal(fn: () => unknown): SporbarError {
  try {
    fn();
  } catch (err) {
    if (isSporbarError(err, 'SPB_ERR_CONFIG')) return err;
    throw err;
  }
  throw new Error('expected SPB_ERR_CONFIG');
}
const variables = (err: SporbarError) => (err.details['problems'] as Array<{ variable: string }>).map((p) => p.variable);

describe('the producer gateway configuration', () => {
  it('keeps the documented defaults', () => {
    const keys = { SPORBAR_SEAL_PUBLIC_KEY: key(), SPORBAR_ROUTING_SECRET: key(), SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')) };
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
      producerKey: developmentProducerKey('http-ingest'),
    });
  });

  it('lists every problem at once, and never shows a secret', () => {
    const short = randomBytes(8).toString('base64url');
    const err = refusal(() => readGatewayConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', SPORBAR_ROUTING_SECRET: short }));
    expect(variables(err).sort()).toEqual(['LOG_LEVEL', 'PORT', 'SPORBAR_PRODUCER_KEY', 'SPORBAR_ROUTING_SECRET', 'SPORBAR_SEAL_PUBLIC_KEY']);
    expect(err.message).not.toContain(short);
  });
});
