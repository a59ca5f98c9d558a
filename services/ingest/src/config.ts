import { readSecret } from '@sporbar/common/config';
import { SporbarError } from '@sporbar/common/errors';
import { parseMasterKey, type MasterKey } from '@sporbar/key-store';
import type { EventStoreConfig } from '@sporbar/event-store';

type Env = Readonly<Record<string, string | undefined>>;

export interface IngestConfig {
  readonly brokers: string[];
  readonly topic: string;
  readonly dlqTopic: string;
  readonly groupId: string;
  readonly partitions: number;
  readonly store: EventStoreConfig;
  readonly sealPrivateKey: string;
  readonly pseudonymKey: { readonly id: string; readonly secret: string };
  /** Wraps the per-subject data keys (kept in the subject_keys table of the same database). */
  readonly masterKey: MasterKey;
  readonly metricsPort: number;
  /** Partitions consumed at the same time (SPORBAR_INGEST_CONCURRENCY, default 3). */
  readonly concurrency: number;
}

export function storeConfigFromEnv(env: Env): EventStoreConfig {
  const adapter = env['SPORBAR_STORE'] ?? 'postgres';
  if (adapter === 'postgres') return { adapter, connectionString: env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/sporbar' };
  if (adapter === 'pglite') return { adapter, dataDir: env['SPORBAR_DATA_DIR'] ?? 'data/pglite' };
  if (adapter === 'eventstoredb') return { adapter, connectionString: readSecret(env, 'EVENTSTORE_URL') };
  throw new SporbarError('SPB_ERR_CONFIG', `SPORBAR_STORE must be postgres, pglite or eventstoredb, got '${adapter}'`);
}

export function ingestConfigFromEnv(env: Env = process.env): IngestConfig {
  const partitions = Number(env['SPORBAR_PARTITIONS'] ?? 6);
  if (!Number.isInteger(partitions) || partitions < 1) throw new SporbarError('SPB_ERR_CONFIG', 'SPORBAR_PARTITIONS must be a positive integer');
  const concurrency = Number(env['SPORBAR_INGEST_CONCURRENCY'] ?? 3);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new SporbarError('SPB_ERR_CONFIG', 'SPORBAR_INGEST_CONCURRENCY must be a positive integer');
  return {
    concurrency,
    brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim()),
    topic: env['SPORBAR_TOPIC'] ?? 'sporbar.disclosures',
    dlqTopic: env['SPORBAR_DLQ_TOPIC'] ?? `${env['SPORBAR_TOPIC'] ?? 'sporbar.disclosures'}.dlq`,
    groupId: env['SPORBAR_GROUP_ID'] ?? 'sporbar-ingest',
    partitions,
    store: storeConfigFromEnv(env),
    sealPrivateKey: readSecret(env, 'SPORBAR_SEAL_PRIVATE_KEY'),
    pseudonymKey: { id: env['SPORBAR_PSEUDONYM_KEY_ID'] ?? 'k1', secret: readSecret(env, 'SPORBAR_PSEUDONYM_KEY') },
    masterKey: parseMasterKey({ id: env['SPORBAR_MASTER_KEY_ID'] ?? 'm1', secret: readSecret(env, 'SPORBAR_MASTER_KEY') }),
    metricsPort: Number(env['METRICS_PORT'] ?? 9464),
  };
}
