#!/usr/bin/env node
// sporbar-producer-gateway: POST /v1/events (OAuth2 client-credentials bearer tokens) → the producer SDK → Kafka (durable spool while Kafka is away).
import pino from 'pino';
import { createKafkaTransport, createProducer, type Producer } from '@sporbar/producer';
import { configOrExit } from '@sporbar/common/config';
import { authorizeByEventType, producerOfClient } from './clients.ts';
import { readGatewayConfig } from './config.ts';
import { buildHttpIngest } from './http-ingest.ts';
import { createTokenVerifier } from './token-verifier.ts';

const config = configOrExit(() => readGatewayConfig());
const log = pino({ name: 'sporbar-producer-gateway', level: config.logLevel });
// One transport (and spool) for the gateway; one SDK producer per authenticated producer id, its sourceSystem.
const transport = createKafkaTransport({
  brokers: config.brokers,
  topic: config.topic,
  spoolDir: config.spoolDir,
  flushTimeoutMs: 10_000,
  logger: log.child({ component: 'kafka-transport' }),
});
const producers = new Map<string, Producer>();
const producerFor = (producerId: string): Producer => {
  let p = producers.get(producerId);
  if (!p) {
    p = createProducer({ transport, sealPublicKey: config.sealPublicKey, routingSecret: config.routingSecret, sourceSystem: producerId });
    producers.set(producerId, p);
  }
  return p;
};
const app = buildHttpIngest({
  producerFor,
  verifyToken: createTokenVerifier({ issuer: config.issuer, audience: config.audience, maxLifetimeSeconds: config.tokenMaxLifetimeSeconds, clockSkewSeconds: config.clockSkewSeconds }),
  producerOf: producerOfClient(config.clients),
  // Until the producer registry exists: the event types configured per client in SPORBAR_GATEWAY_CLIENTS.
  authorize: authorizeByEventType(config.clients),
  rateLimit: config.rateLimit,
  logger: log,
});
const address = await app.listen({ host: config.host, port: config.port });
log.info({ address, issuer: config.issuer, clients: [...config.clients.keys()] }, 'POST /v1/events ready');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(async () => {
        await transport.flush?.();
        await transport.close?.();
      })
      .then(() => process.exit(0));
  });
}
