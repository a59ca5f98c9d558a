#!/usr/bin/env node
// The access API as a service of its own: read models in PostgreSQL, ReportViewed events to Kafka.
import pg from 'pg';
import pino from 'pino';
import { fromPgPool } from '@sporbar/projections';
import { createKafkaTransport, createProducer } from '@sporbar/producer';
import { readSecret } from '@sporbar/common/config';
import { SporbarError } from '@sporbar/common/errors';
import { register } from '@sporbar/schemas';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { createPseudonymiser, createSubjectKeyStore, migrateSubjectKeys, parseMasterKey, parsePreviousPseudonymKeys } from '@sporbar/key-store';
import { buildApp } from './app.ts';
import { watchActiveReadModels } from './read-models.ts';

const env = process.env;
const secret = (name: string): string => readSecret(env, name);

const selfViews = (value = 'async'): 'async' | 'sync' => {
  if (value === 'async' || value === 'sync') return value;
  throw new SporbarError('SPB_ERR_CONFIG', `SPORBAR_SELF_VIEWS must be async or sync, got '${value}'`);
};
const log = pino({ name: 'sporbar-access-api', level: env['LOG_LEVEL'] ?? 'info' });
const production = (env['SPORBAR_ENV'] ?? 'production') === 'production';
const pool = new pg.Pool({ connectionString: env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/sporbar', max: Number(env['PG_POOL_SIZE'] ?? 10) });
pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost')); // a server restart must not kill the process
const db = fromPgPool(pool);
const readModels = await watchActiveReadModels(db);
const brokers = (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const transport = createKafkaTransport({
  brokers,
  clientId: 'sporbar-access-api',
  flushTimeoutMs: 10_000,
  topic: env['SPORBAR_TOPIC'] ?? 'sporbar.disclosures',
  spoolDir: env['SPORBAR_SPOOL_DIR'] ?? 'data/access-api-spool',
  // Views wait up to this long to share a produce request: the broker's cost is per request, not per event.
  lingerMs: Number(env['SPORBAR_VIEWS_LINGER_MS'] ?? 20),
  logger: log.child({ component: 'kafka-transport' }),
});
const views = createProducer({ transport, sealPublicKey: secret('SPORBAR_SEAL_PUBLIC_KEY'), routingSecret: secret('SPORBAR_ROUTING_SECRET'), sourceSystem: 'sporbar-access-api' });
await migrateSubjectKeys(pgPoolSqlClient(pool));
const subjectKeys = createSubjectKeyStore({ db: pool, masterKey: parseMasterKey({ id: env['SPORBAR_MASTER_KEY_ID'] ?? 'm1', secret: secret('SPORBAR_MASTER_KEY') }) });

const app = await buildApp({
  readModels,
  register,
  // After a rotation: the new key current, the old ones in SPORBAR_PSEUDONYM_PREVIOUS_KEYS (id:secret,...) so old pseudonyms stay findable.
  pseudonymiser: createPseudonymiser({ id: env['SPORBAR_PSEUDONYM_KEY_ID'] ?? 'k1', secret: secret('SPORBAR_PSEUDONYM_KEY') }, parsePreviousPseudonymKeys(env['SPORBAR_PSEUDONYM_PREVIOUS_KEYS'])),
  subjectKeys,
  views,
  jwtPublicKey: secret('SPORBAR_JWT_PUBLIC_KEY'),
  production,
  logger: log,
  rateLimitPerMinute: Number(env['RATE_LIMIT_PER_MINUTE'] ?? 600),
  // A citizen's view of their own data: recorded off the critical path (async, default) or awaited (sync).
  // Caseworkers', DPOs' and auditors' views are always awaited and fail closed (README, record-view.ts).
  selfViews: selfViews(env['SPORBAR_SELF_VIEWS']),
  tokenCacheSize: Number(env['TOKEN_CACHE_SIZE'] ?? 10_000),
});
const address = await app.listen({ host: env['HOST'] ?? '127.0.0.1', port: Number(env['PORT'] ?? 3000) });
log.info({ address, production }, 'access API listening');

const shutdown = async (signal: string) => {
  log.info({ signal }, 'stopping');
  await app.close();
  await views.close();
  readModels.stop();
  await pool.end();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
