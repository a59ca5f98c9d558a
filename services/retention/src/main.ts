#!/usr/bin/env node
// sporbar-retention: every SPORBAR_RETENTION_INTERVAL_SECONDS the active instance (a PostgreSQL advisory lock)
// records RetentionExpired, through Kafka, for every subject and activity whose retention rules ran out.
import pg from 'pg';
import pino from 'pino';
import { configOrExit } from '@sporbar/common/config';
import { probe, readiness } from '@sporbar/common/health';
import { activePrefix, fromPgPool, listeningPort, runRetention, serveOps } from '@sporbar/projections';
import { createKafkaTransport, createProducer } from '@sporbar/producer';
import { retentionConfigFromEnv } from './config.ts';
import { createAdvisoryLock } from './leader-lock.ts';
import { createRetentionMetrics } from './metrics.ts';
import { countOverdue } from './overdue.ts';
import { startRetentionService } from './retention-service.ts';

/** SIGTERM: the run in hand finishes (or is abandoned after 10 s), the producer flushes (what Kafka has not taken stays in the spool), then exit 0; past this, exit 1. */
const SHUTDOWN_BOUND_MS = 40_000;
/** How long each closing step may wait for an absent database before it is given up. */
const STEP_MS = 10_000;
/** Whether `p` settled within `ms` (a rejection counts: the step is over). */
const within = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

// Every problem of the environment listed at once (SPB_ERR_CONFIG, no stack trace), before anything starts.
const config = configOrExit(() => retentionConfigFromEnv(process.env));
const log = pino({ name: 'sporbar-retention', level: config.logLevel });
const pool = new pg.Pool({ connectionString: config.readModelsDatabaseUrl, max: 2 });
pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost')); // a server restart must not kill the process
const db = fromPgPool(pool);
const transport = createKafkaTransport({
  ...config.kafka,
  clientId: 'sporbar-retention',
  flushTimeoutMs: 10_000,
  topic: config.topic,
  spoolDir: config.spoolDir,
  logger: log.child({ component: 'kafka-transport' }),
});
const producer = createProducer({ transport, sealPublicKey: config.sealPublicKey, routingSecret: config.routingSecret, producerKey: config.producerKey });
const metrics = createRetentionMetrics({ overdue: async () => countOverdue(db, new Date(), await activePrefix(db)) });
const service = startRetentionService({
  lock: createAdvisoryLock(config.readModelsDatabaseUrl, 'sporbar-retention', log),
  run: async (sink, now) => runRetention(db, sink, now, await activePrefix(db)),
  sink: producer,
  intervalMs: config.intervalSeconds * 1000,
  metrics,
  log,
});
let spoolOpen = false;
transport.ready.then(() => void (spoolOpen = true)).catch(() => undefined);
const server = await serveOps({
  registry: metrics.registry,
  host: config.metricsHost,
  port: config.metricsPort,
  health: () => ({ ok: service.alive(), detail: { loop: service.alive() ? 'ticking' : 'stalled', role: service.active() ? 'active' : 'standby' } }),
  // Kafka away is shown, not a failure: the spool keeps the events (fsync'd) until it is back.
  ready: async () => {
    const check = await readiness({ database: () => probe(() => pool.query('SELECT 1')), spool: async () => (spoolOpen ? 'ok' : 'not open') });
    return { ok: check.ok, detail: { ...check.detail, kafka: transport.stats().mode === 'spool' ? 'spooling (Kafka away)' : 'ok' } };
  },
}).catch((err: Error) => {
  log.error({ err: err.message, metricsPort: config.metricsPort }, 'cannot serve /metrics, /health and /ready: exiting');
  process.exit(1);
});
log.info({ metricsPort: listeningPort(server), intervalSeconds: config.intervalSeconds }, 'retention worker running');

const shutdown = async (signal: string) => {
  log.info({ signal }, 'stopping: finishing the run in hand');
  setTimeout(() => {
    log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'did not stop in time: exiting');
    process.exit(1);
  }, SHUTDOWN_BOUND_MS).unref();
  // A run stuck on an absent database is abandoned: what it recorded is in the producer, the rest runs next time.
  if (!(await within(service.stop(), STEP_MS))) log.warn({ afterMs: STEP_MS }, 'abandoning the run in hand: the next run picks up what it left');
  await within(producer.close(), 12_000); // flushes for up to 10 s; what Kafka has not taken stays in the spool
  server.close();
  server.closeAllConnections();
  await within(pool.end(), STEP_MS);
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
