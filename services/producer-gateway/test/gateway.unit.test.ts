import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec } from '@sporbar/schemas';
import { generateSealKeyPair } from '@sporbar/key-store/seal';
import { createInProcessTransport, developmentProducerKey, type OutgoingMessage } from '@sporbar/producer';
import { formatProducerKey } from '@sporbar/key-store/producer-auth';
import { DEVELOPMENT_PRODUCER_REGISTRY_FILE } from '@sporbar/key-store';
import { buildGateway, readGatewayConfig } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';

let iss: TestIssuer;
beforeAll(async () => {
  iss = await startTestIssuer();
});
afterAll(() => iss?.close());

describe('the gateway as main.ts wires it, from its environment', () => {
  it("checks tokens of SPORBAR_GATEWAY_ISSUER, records as the configured producer, and refuses what the producer registry does not allow the client's producer", async () => {
    const config = readGatewayConfig({
      SPORBAR_SEAL_PUBLIC_KEY: (await generateSealKeyPair()).publicKey,
      SPORBAR_ROUTING_SECRET: randomBytes(32).toString('base64url'),
      SPORBAR_GATEWAY_ISSUER: iss.issuer,
      SPORBAR_GATEWAY_CLIENTS: 'mitid-gw=mitid-support,nemkonto-gw=nemkonto',
      SPORBAR_PRODUCER_REGISTRY: DEVELOPMENT_PRODUCER_REGISTRY_FILE,
      SPORBAR_ENV: 'development',
      SPORBAR_GATEWAY_RATE_LIMIT_MAX: '3',
      SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('http-ingest')),
    });
    const sent: OutgoingMessage[] = [];
    const gateway = buildGateway(config, createInProcessTransport(async (m) => void sent.push(...m)));
    const consent = () => ({ type: 'ConsentGiven', eventId: randomUUID(), subject: { cpr: '210376-4411' }, activity: 'mitid-support', scope: 'CALL_RECORDING' });
    const post = async (azp: string | undefined, payload: unknown) =>
      (await gateway.app.inject({ method: 'POST', url: '/v1/events', headers: azp ? { authorization: `Bearer ${await iss.sign({ azp })}` } : {}, payload: payload as Record<string, unknown> })).statusCode;
    expect(await post(undefined, consent())).toBe(401);
    expect(await post('mitid-gw', consent())).toBe(202);
    expect(await post('nemkonto-gw', consent())).toBe(403); // nemkonto: not for activity mitid-support
    expect(await post('mitid-gw', { type: 'ErasureRequested', eventId: randomUUID(), subject: { cpr: '210376-4411' }, reason: 'x' })).toBe(403);
    expect(await post('mitid-gw', consent())).toBe(202);
    expect(await post('mitid-gw', consent())).toBe(429);
    const codec = createCodec();
    expect(sent.map((m) => (codec.decode(m.value).event as { sourceSystem: string }).sourceSystem)).toEqual(['mitid-support', 'mitid-support']);
    await gateway.close();
  });
});
