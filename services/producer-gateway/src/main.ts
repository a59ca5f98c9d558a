#!/usr/bin/env node
// sporbar-producer-gateway: POST /v1/events (OAuth2 client-credentials bearer tokens) → the producer SDK → Kafka (durable spool while Kafka is away).
import pino from 'pino';
import { createKafkaTransport } from '@sporbar/producer';
import { configOrExit } from '@sporbar/common/config';
import { probe, readiness } from '@sporbar/common/health';
import { loadGatewayConfig } from './config.ts';
import { buildGateway } from './gateway.ts';

// The register (SPORBAR_REGISTER_DIR, else the packaged one) first: the producer registry's activity ids are checked against it.
const config = await loadGatewayConfig().catch((err: unknown) => configOrExit(() => { throw err; }));
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
let spoolOpen = false;
transport.ready.then(() => void (spoolOpen = true)).catch(() => undefined);
/**
 * Ready while its spool is open and the issuer's discovery document answers (the JWKS behind it verifies
 * every token). Kafka away is shown but not a failure: events are fsync'd into the spool meanwhile.
 */
const discovery = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
const ready = async () => {
  const check = await readiness({
    spool: async () => (spoolOpen ? 'ok' : 'not open'),
    issuer: () =>
      probe(async () => {
        const r = await fetch(discovery, { signal: AbortSignal.timeout(2000) });
        await r.body?.cancel();
        if (!r.ok) throw Object.assign(new Error('discovery'), { code: `HTTP_${r.status}` });
      }, 2500),
  });
  return { ok: check.ok, detail: { ...check.detail, kafka: transport.stats().mode === 'spool' ? 'spooling (Kafka away)' : 'ok' } };
};
const gateway = buildGateway(config, transport, { logger: log, ready });
const address = await gateway.app.listen({ host: config.host, port: config.port });
log.info({ address, issuer: config.issuer, clients: [...config.clients.keys()] }, 'POST /v1/events ready');
/** SIGTERM: requests in flight finish, the transport flushes (what Kafka has not taken stays in the spool), exit 0; past this, exit 1. */
const SHUTDOWN_BOUND_MS = 20_000;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'did not stop in time: exiting');
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    void gateway.close().then(() => process.exit(0));
  });
}
