#!/usr/bin/env node
// sporbar-producer-gateway: POST /v1/events (OAuth2 client-credentials bearer tokens) → the producer SDK → Kafka (durable spool while Kafka is away).
import pino from 'pino';
import { createKafkaTransport } from '@sporbar/producer';
import { configOrExit } from '@sporbar/common/config';
import { readGatewayConfig } from './config.ts';
import { buildGateway } from './gateway.ts';

const config = configOrExit(() => readGatewayConfig());
const log = pino({ name: 'sporbar-producer-gateway', level: config.logLevel });
// One transport (and spool) for the gateway; one SDK producer per authenticated producer id.
const transport = createKafkaTransport({
  ...config.kafka,
  topic: config.topic,
  spoolDir: config.spoolDir,
  flushTimeoutMs: 10_000,
  logger: log.child({ component: 'kafka-transport' }),
});
// Each client's producer's allow-list (SPORBAR_PRODUCER_REGISTRY) is applied to every item before anything is sent.
const gateway = buildGateway(config, transport, { logger: log });
const address = await gateway.app.listen({ host: config.host, port: config.port });
log.info({ address, issuer: config.issuer, clients: [...config.clients.keys()] }, 'POST /v1/events ready');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => process.exit(0));
  });
}
