/**
 * The access API as the bench runs it: a process of its own (as in production, src/main.ts), so the
 * load generator does not share its event loop. Configured like main.ts — pino at info to a file
 * (asynchronous, as main.ts writes to stdout), a pg pool of PG_POOL_SIZE (default 10), ReportViewed
 * events through the Kafka transport with its defaults, rate limit and helmet on — except that the
 * citizens' CPR numbers are synthetic: each maps to a pseudonym sampled from the dataset, after the
 * real HMAC pseudonymisation has been computed (so its cost stays in the measurement).
 *
 * Started by api.bench.ts (fork, IPC): receives one ServerConfig, answers { address }; on 'cpu'
 * answers { cpu: process.cpuUsage() }; on 'stop'
 * waits for the views in flight, closes the app, the producer and the pool, answers { stopped, metrics }.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { fromPgPool } from '@sporbar/projections';
import { kafkaClientOptions, type KafkaClientSettings } from '@sporbar/kafka-infra';
import { developmentProducerKey, createKafkaTransport, createProducer } from '@sporbar/producer';
import { register } from '@sporbar/schemas';
import { createPseudonymiser, createSubjectKeyStore, parseMasterKey, type Pseudonymiser } from '@sporbar/key-store';
import { buildApp, devPublicKey, type SelfViewMode } from '../src/index.ts';

export interface ServerConfig {
  readonly dbUrl: string;
  readonly prefix: string;
  /** cpr → pseudonym in the dataset. */
  readonly subjects: Record<string, string>;
  /** The broker, plaintext or secured (the CA file and SCRAM login). */
  readonly kafka: KafkaClientSettings;
  readonly topic: string;
  readonly spoolDir: string;
  readonly logFile: string;
  readonly sealPublicKey: string;
  readonly selfViews: SelfViewMode;
}

const send = (m: unknown) => process.send!(m);

process.once('message', (config: ServerConfig) => {
  start(config).catch((e: unknown) => {
    console.error('[api-server]', e);
    process.exit(1);
  });
});

async function start(c: ServerConfig) {
  const env = process.env;
  const log = pino({ name: 'sporbar-access-api', level: env['LOG_LEVEL'] ?? 'info' }, pino.destination({ dest: c.logFile, sync: false }));
  const pool = new pg.Pool({ connectionString: c.dbUrl, max: Number(env['PG_POOL_SIZE'] ?? 10) });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  const real = createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') });
  const pseudonymiser: Pseudonymiser = {
    keyId: real.keyId,
    pseudonym: (cpr) => {
      const computed = real.pseudonym(cpr);
      return c.subjects[cpr] ?? computed;
    },
    all: (cpr) => {
      const computed = real.all(cpr);
      const mapped = c.subjects[cpr];
      return mapped ? [mapped, ...computed.slice(1)] : computed;
    },
  };
  const views = createProducer({
    transport: createKafkaTransport({ ...kafkaClientOptions(c.kafka), clientId: 'sporbar-access-api-bench', flushTimeoutMs: 10_000, topic: c.topic, spoolDir: c.spoolDir, lingerMs: Number(env['SPORBAR_VIEWS_LINGER_MS'] ?? 20) }),
    sealPublicKey: c.sealPublicKey,
    routingSecret: randomBytes(32).toString('base64url'),
    producerKey: developmentProducerKey('sporbar-access-api'),
  });
  // Details are opened only when the dataset's master key is given (the generated dataset has none).
  const subjectKeys = env['SPORBAR_MASTER_KEY'] ? createSubjectKeyStore({ db: pool, masterKey: parseMasterKey({ id: env['SPORBAR_MASTER_KEY_ID'] ?? 'm1', secret: env['SPORBAR_MASTER_KEY'] }) }) : undefined;
  const app = await buildApp({
    readModels: { db: fromPgPool(pool), prefix: () => c.prefix },
    register,
    pseudonymiser,
    ...(subjectKeys ? { subjectKeys } : {}),
    views,
    jwtPublicKey: devPublicKey(),
    production: false,
    logger: log,
    selfViews: c.selfViews,
    // Every request of the bench comes from one address: the limit is raised, the plugin still runs.
    rateLimitPerMinute: 100_000_000,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  send({ address });

  process.on('message', (m) => {
    if (m === 'cpu') {
      send({ cpu: process.cpuUsage(), loopDelayMs: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 } });
      delay.reset();
    }
    if (m !== 'stop') return;
    void (async () => {
      // The self-views still in flight are accepted (or counted as failed) before the figures are taken.
      const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
      let metrics = await scrape();
      for (let i = 0; i < 300 && !/^sporbar_api_views_pending 0$/m.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 50));
        metrics = await scrape();
      }
      await app.close();
      await views.close();
      await pool.end();
      log.flush();
      send({ stopped: true, metrics });
      process.disconnect();
    })().catch((e: unknown) => {
      console.error('[api-server] stop', e);
      process.exit(1);
    });
  });
}
