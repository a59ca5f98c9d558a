#!/usr/bin/env node
// sporbar-producer-gateway: POST /v1/events → the producer SDK → Kafka (durable spool while Kafka is away).
import pino from 'pino';
import { createKafkaTransport, createProducer } from '@sporbar/producer';
import { configOrExit } from '@sporbar/common/config';
import { readGatewayConfig } from './config.ts';
import { buildHttpIngest } from './http-ingest.ts';

const config = configOrExit(() => readGatewayConfig());
const log = pino({ name: 'sporbar-producer-gateway', level: config.logLevel });
const producer = createProducer({
  transport: createKafkaTransport({
    brokers: config.brokers,
    topic: config.topic,
    spoolDir: config.spoolDir,
    flushTimeoutMs: 10_000,
    logger: log.child({ component: 'kafka-transport' }),
  }),
  sealPublicKey: config.sealPublicKey,
  routingSecret: config.routingSecret,
  sourceSystem: config.sourceSystem,
  producerKey: config.producerKey,
});
const app = buildHttpIngest({ producer, logger: log });
const address = await app.listen({ host: config.host, port: config.port });
log.info({ address }, 'POST /v1/events ready');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => producer.close()).then(() => process.exit(0));
  });
}
