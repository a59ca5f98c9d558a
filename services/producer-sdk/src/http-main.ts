#!/usr/bin/env node
// sporbar-http-ingest: POST /v1/events → the producer SDK → Kafka (durable spool while Kafka is away).
import pino from 'pino';
import { readSecret } from '@sporbar/common/config';
import { buildHttpIngest } from './http-ingest.ts';
import { createKafkaTransport } from './kafka-transport.ts';
import { createProducer } from './producer.ts';

const env = process.env;
const secret = (name: string): string => readSecret(env, name);
const log = pino({ name: 'sporbar-http-ingest', level: env['LOG_LEVEL'] ?? 'info' });
const producer = createProducer({
  transport: createKafkaTransport({ brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','), topic: env['SPORBAR_TOPIC'] ?? 'sporbar.disclosures', spoolDir: env['SPORBAR_SPOOL_DIR'] ?? 'data/http-ingest-spool', flushTimeoutMs: 10_000 }),
  sealPublicKey: secret('SPORBAR_SEAL_PUBLIC_KEY'),
  routingSecret: secret('SPORBAR_ROUTING_SECRET'),
  sourceSystem: env['SPORBAR_SOURCE_SYSTEM'] ?? 'http-ingest',
});
const app = buildHttpIngest({ producer, logger: log });
const address = await app.listen({ host: env['HOST'] ?? '127.0.0.1', port: Number(env['PORT'] ?? 3100) });
log.info({ address }, 'POST /v1/events ready');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => producer.close()).then(() => process.exit(0));
  });
}
