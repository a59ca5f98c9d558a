#!/usr/bin/env node
// sporbar-ingest: `run` consumes the disclosures topic into the event store; `redrive` sends dead letters back.
import { createServer } from 'node:http';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createEventStore, type EventStore } from '@sporbar/event-store';
import { createCodec } from '@sporbar/schemas';
import { configOrExit, type KafkaClientOptions } from '@sporbar/common/config';
import { checkAnswer, probe, readiness, type OpsCheck } from '@sporbar/common/health';
import { pgliteSqlClient, pgPoolSqlClient, type SqlClient } from '@sporbar/common/sql';
import { createPseudonymiser, createSubjectKeyStore, createSubjectOpener, migrateSubjectKeys, type SubjectKeySql } from '@sporbar/key-store';
import type { IngestConfig } from './config.ts';
import { loadIngestConfig, redriveConfigFromEnv } from './config.ts';
import { createIngest } from './ingest.ts';
import { createKafkaDeadLetterSink } from './kafka-dead-letters.ts';
import { startKafkaIngest } from './kafka-ingest.ts';
import { createIngestMetrics } from './metrics.ts';
import { checkReasonCode, redriveDeadLetters } from './redrive.ts';
import { ensureTopics } from './topics.ts';

// Its level is the command's LOG_LEVEL, set once the configuration is read (every problem listed at once, no stack trace).
const log = pino({ name: 'sporbar-ingest' });
const kafkaFor = (options: KafkaClientOptions) =>
  new Kafka({
    clientId: 'sporbar-ingest',
    ...options,
    logLevel: logLevel.WARN,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000 },
    logCreator: () => (entry) => log.warn({ kafka: entry.namespace, msg: entry.log.message }, 'kafka'),
  });

/** The event store, and the database the subject keys live in (the same one): `keysDb` for the key store, `keysSql` for its migrations. */
async function openStorage(config: IngestConfig): Promise<{ store: EventStore; keysDb: SubjectKeySql; keysSql: SqlClient; close(): Promise<void> }> {
  if (config.store.adapter === 'pglite') {
    const db = await PGlite.create(config.store.dataDir);
    const store = await createEventStore({ adapter: 'pglite', db });
    return { store, keysDb: db, keysSql: pgliteSqlClient(db), close: async () => (await store.close(), await db.close()) };
  }
  if (config.store.adapter === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.store.connectionString, max: 4 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost')); // a server restart must not kill the process
    const store = await createEventStore(config.store);
    return { store, keysDb: pool, keysSql: pgPoolSqlClient(pool), close: async () => (await store.close(), await pool.end()) };
  }
  // EventStoreDB holds the log; the subject keys need a relational table: DATABASE_URL.
  const pool = new pg.Pool({ connectionString: config.keysDatabaseUrl, max: 4 });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  const store = await createEventStore(config.store);
  return { store, keysDb: pool, keysSql: pgPoolSqlClient(pool), close: async () => (await store.close(), await pool.end()) };
}

/** SIGTERM: the batch in hand gets this long to become durable and be committed; past it, it is abandoned (uncommitted, so Kafka delivers it again). */
const STOP_BATCH_MS = 10_000;
/** Past this the process exits 1: something did not close. */
const SHUTDOWN_BOUND_MS = 25_000;

const program = new Command('sporbar-ingest').description('Kafka → event store ingest of Sporbar events');

program
  .command('run')
  .description('consume the disclosures topic into the event store (configuration from the environment; see README)')
  .action(async () => {
    // The register files (SPORBAR_REGISTER_DIR, else the packaged ones: composed and validated per version), then the
    // configuration, whose producer registry is checked against them; any problem is SPB_ERR_CONFIG.
    const { config, registerFiles } = await loadIngestConfig(process.env).catch((err: unknown) => configOrExit(() => { throw err; }));
    log.level = config.logLevel;
    if (config.unauthenticatedProducers) {
      log.warn(
        { SPORBAR_INSECURE_NO_PRODUCER_AUTH: 'true', SPORBAR_ENV: 'development' },
        'PRODUCER AUTHENTICATION IS OFF: events are stored without checking who wrote them (development only, for the pipeline bench; never in production)',
      );
    }
    const kafka = kafkaFor(config.kafka);
    await ensureTopics(kafka, [
      { topic: config.topic, numPartitions: config.partitions },
      { topic: config.dlqTopic, numPartitions: 1 },
    ]);
    const { store, keysDb, keysSql, close } = await openStorage(config);
    await migrateSubjectKeys(keysSql); // the key table, under the same per-schema migration lock as the event store
    const keys = createSubjectKeyStore({ db: keysDb, masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys });
    const dlqProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await dlqProducer.connect();
    const metrics = createIngestMetrics();
    const ingest = createIngest({
      codec: createCodec(),
      store,
      register: registerFiles,
      opener: createSubjectOpener(config.sealPrivateKey, { previousPrivateKeys: config.previousSealPrivateKeys }),
      pseudonymiser: createPseudonymiser(config.pseudonymKey, config.previousPseudonymKeys),
      keys,
      deadLetters: createKafkaDeadLetterSink(dlqProducer, config.dlqTopic),
      producers: config.producers,
      unauthenticatedProducers: config.unauthenticatedProducers,
    });
    // Every notice version this ingest judges by is in the log before the first disclosure it classifies.
    const registerPublished = await ingest.publishRegister();
    log.info(registerPublished, 'register versions published (RegisterPublished) / already in the log');
    const running = await startKafkaIngest({ kafka, ingest, topic: config.topic, groupId: config.groupId, metrics, log, concurrency: config.concurrency });
    // Liveness: the consumer loop runs (kafkajs restarts it after a retriable crash; a crash it does not restart is fatal).
    let consumerDead = false;
    let stopping = false;
    running.consumer.on(running.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) {
        consumerDead = true;
        log.error({ err: e.payload.error.message }, 'the consumer crashed and will not restart: /health answers 503');
      }
    });
    // Readiness: the store, the key table and the brokers answer (a metadata request for the topic this principal reads).
    const admin = kafka.admin();
    let adminConnected: Promise<void> | undefined;
    const kafkaProbe = async () => {
      adminConnected ??= admin.connect().catch((err: unknown) => {
        adminConnected = undefined;
        throw err;
      });
      await adminConnected;
      await admin.fetchTopicMetadata({ topics: [config.topic] });
    };
    const health = (): OpsCheck => ({ ok: !consumerDead && !stopping, detail: { consumer: consumerDead ? 'crashed' : stopping ? 'stopping' : 'running' } });
    const ready = (): Promise<OpsCheck> =>
      readiness({
        eventStore: () => probe(() => store.headPosition()),
        keyTable: () => probe(() => keysSql.query('SELECT 1')),
        kafka: () => probe(kafkaProbe, 5000),
      });
    const send = (res: import('node:http').ServerResponse, a: { status: number; body: unknown }) =>
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics') {
        metrics.registry
          .metrics()
          .then((body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body))
          .catch(() => res.writeHead(503).end('metrics unavailable\n'));
      } else if (path === '/health') {
        send(res, checkAnswer(health(), 'ok'));
      } else if (path === '/ready') {
        void ready().then((check) => send(res, checkAnswer(check, 'ready')));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.metricsPort, config.metricsHost, () => resolve());
    }).catch((err: Error) => {
      log.error({ err: err.message, metricsPort: config.metricsPort }, 'cannot serve /metrics, /health and /ready: exiting');
      process.exit(1);
    });
    const address = server.address();
    const metricsPort = typeof address === 'object' && address ? address.port : config.metricsPort;
    log.info({ topic: config.topic, groupId: config.groupId, store: config.store.adapter, metricsPort, producerAuthentication: config.unauthenticatedProducers ? 'OFF' : 'on' }, 'ingest running');
    const shutdown = async (signal: string) => {
      stopping = true;
      log.info({ signal }, 'stopping: finishing the batch in hand');
      setTimeout(() => {
        log.error({ boundMs: SHUTDOWN_BOUND_MS }, 'did not stop in time: exiting');
        process.exit(1);
      }, SHUTDOWN_BOUND_MS).unref();
      // A batch still waiting for the store (retried while it is away) is abandoned after STOP_BATCH_MS:
      // its offsets are not committed, so the group delivers it again (eventIds make that harmless).
      const stopped = await Promise.race([running.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_BATCH_MS).unref())]);
      if (!stopped) log.warn({ afterMs: STOP_BATCH_MS }, 'abandoning the batch in hand: not committed, it will be delivered again');
      await admin.disconnect().catch(() => undefined);
      await dlqProducer.disconnect().catch(() => undefined);
      await close().catch((err: Error) => log.warn({ err: err.message }, 'closing the store'));
      server.close();
      server.closeAllConnections();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('redrive')
  .description('send the dead letters waiting in the DLQ back to the disclosures topic, after a fix')
  .option('--reason-code <code>', 'only letters with this SPB_ERR_* reason code (one of docs/errors.md)')
  .action(async (opts: { reasonCode?: string }) => {
    // A usage error (exit code 2), before the configuration is read or anything is connected to.
    const reason = opts.reasonCode === undefined ? undefined : checkReasonCode(opts.reasonCode);
    if (reason && !reason.ok) {
      console.error(`sporbar-ingest redrive: ${reason.message}`);
      process.exit(2);
    }
    const config = configOrExit(() => redriveConfigFromEnv(process.env));
    log.level = config.logLevel;
    const result = await redriveDeadLetters({
      kafka: kafkaFor(config.kafka),
      topic: config.topic,
      dlqTopic: config.dlqTopic,
      ...(reason?.ok ? { reasonCode: reason.code } : {}),
    });
    console.log(`re-driven: ${result.redriven}, left alone: ${result.skipped}`);
  });

await program.parseAsync();
