#!/usr/bin/env node
// The access API as a service of its own: read models in PostgreSQL, ReportViewed events to Kafka.
import pg from 'pg';
import pino from 'pino';
import { fromPgPool } from '@sporbar/projections';
import { createKafkaTransport, createProducer } from '@sporbar/producer';
import { configOrExit } from '@sporbar/common/config';
import { probe, readiness } from '@sporbar/common/health';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { latestRegister, loadRegisterSource } from '@sporbar/schemas';
import { createPseudonymiser, createSubjectKeyStore, migrateSubjectKeys } from '@sporbar/key-store';
import { createLogClient } from '@sporbar/log/client';
import { createEventStore } from '@sporbar/event-store';
import { storeEntrySource } from './routes/entries.ts';
import { buildApp } from './app.ts';
import { accessApiConfigFromEnv } from './config.ts';
import { watchActiveReadModels } from './read-models.ts';

// Every problem of the environment listed at once (SPB_ERR_CONFIG, no stack trace), before anything starts.
const config = configOrExit(() => accessApiConfigFromEnv(process.env));
const log = pino({ name: 'sporbar-access-api', level: config.logLevel });
// Names on the pages from the latest version of every notice; "judged by" from the version each disclosure names.
const registerFiles = await loadRegisterSource('sporbar-access-api', config.registerDir).catch((err: unknown) => configOrExit(() => { throw err; }));
const production = config.production;
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize });
pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost')); // a server restart must not kill the process
const db = fromPgPool(pool);
const readModels = await watchActiveReadModels(db);
const transport = createKafkaTransport({
  ...config.kafka,
  clientId: 'sporbar-access-api',
  flushTimeoutMs: 10_000,
  topic: config.topic,
  spoolDir: config.spoolDir,
  // Views wait up to this long to share a produce request: the broker's cost is per request, not per event.
  lingerMs: config.lingerMs,
  logger: log.child({ component: 'kafka-transport' }),
});
const views = createProducer({ transport, sealPublicKey: config.sealPublicKey, routingSecret: config.routingSecret, producerKey: config.producerKey });
await migrateSubjectKeys(pgPoolSqlClient(pool));
const subjectKeys = createSubjectKeyStore({ db: pool, masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys });
// The citizens' proof downloads read stored events by id (SPORBAR_STORE): a small pool, reads only.
const eventStore = config.eventStore ? await createEventStore({ ...config.eventStore, ...(config.eventStore.adapter === 'postgres' ? { poolSize: 2 } : {}) }) : undefined;
let spoolOpen = false;
transport.ready.then(() => void (spoolOpen = true)).catch(() => undefined);
/**
 * Ready while the read models' database answers and the views' producer has its spool open. Kafka
 * away is shown but not a failure: views are fsync'd into the spool meanwhile, and every instance sees
 * the same Kafka, so taking this one out of rotation would not help.
 */
const ready = async () => {
  const check = await readiness({ readModels: () => probe(() => pool.query('SELECT 1')), viewsSpool: async () => (spoolOpen ? 'ok' : 'not open') });
  return { ok: check.ok, detail: { ...check.detail, kafka: transport.stats().mode === 'spool' ? 'spooling (Kafka away)' : 'ok' } };
};

// Auditors' entry bundles: read from the event store itself (its PostgreSQL), bounded by the log's latest checkpoint.

const app = await buildApp({
  readModels,
  register: latestRegister(registerFiles),
  registerFiles,
  // After a rotation: the new key current, the old ones in SPORBAR_PSEUDONYM_PREVIOUS_KEYS (id:secret,...) so old pseudonyms stay findable.
  pseudonymiser: createPseudonymiser(config.pseudonymKey, config.previousPseudonymKeys),
  subjectKeys,
  views,
  jwtPublicKey: config.jwtPublicKey,
  // SPORBAR_OIDC_*: the issuer's access tokens, and with a client the citizens' browser sign-in (server-side sessions).
  oidc: config.oidc,
  publicUrl: config.publicUrl,
  production,
  logger: log,
  rateLimitPerMinute: config.rateLimitPerMinute,
  // A citizen's view of their own data: recorded off the critical path (async, default) or awaited (sync).
  // Caseworkers', DPOs' and auditors' views are always awaited and fail closed (README, record-view.ts).
  selfViews: config.selfViews,
  tokenCacheSize: config.tokenCacheSize,
  tokenMaxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
  // The log service (sporbar-log): the report's integrity section and /v1/log/*, over HTTP.
  ...(config.logUrl ? { log: createLogClient({ url: config.logUrl, timeoutMs: config.logTimeoutMs }) } : {}),
  ...(config.witnessPolicy ? { witnessPolicy: config.witnessPolicy.text } : {}),
  ...(config.subjectMapKey ? { subjectMapKey: config.subjectMapKey } : {}),
  ...(eventStore ? { eventStore, ...(config.logUrl ? { entries: storeEntrySource(eventStore) } : {}) } : {}),
  ready,
});
const address = await app.listen({ host: config.host, port: config.port });
log.info({ address, production }, 'access API listening');

/** SIGTERM: requests in flight finish, views are flushed (what Kafka has not taken stays in the spool), exit 0; past this, exit 1. */
const SHUTDOWN_BOUND_MS = 20_000;
const shutdown = async (signal: string) => {
  log.info({ signal }, 'stopping');
  setTimeout(() => {
    log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'did not stop in time: exiting');
    process.exit(1);
  }, SHUTDOWN_BOUND_MS).unref();
  await app.close();
  await views.close();
  readModels.stop();
  await eventStore?.close();
  await pool.end();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
