import { envInteger, envSecret, envString, kafkaClientEnv, kafkaClientOptionsFrom, loadConfig, logLevelEnv, type Env, type KafkaClientOptions } from '@sporbar/common/config';
import { parseProducerKey, type ProducerKey } from '@sporbar/key-store/producer-auth';

/** The retention worker's principal in the producer registry: it may send RetentionExpired only. */
export const RETENTION_PRODUCER_ID = 'sporbar-retention';

/** `sporbar-retention` (main.ts): its environment, declared once (the README's configuration table is generated from it). */
export const retentionEnv = {
  ...logLevelEnv,
  DATABASE_URL: envString({
    default: 'postgres://postgres@127.0.0.1:5432/sporbar',
    redact: true,
    meaning: 'PostgreSQL of the read models (the retention schedule) and of the lock that keeps one instance active',
  }),
  READ_MODELS_DATABASE_URL: envString({ redact: true, defaultDoc: '`DATABASE_URL`', meaning: 'where the read models live' }),
  SPORBAR_RETENTION_INTERVAL_SECONDS: envInteger({ default: 60, minimum: 1, maximum: 86_400, meaning: 'how often the active instance runs the retention rules (a standby tries to take over as often)' }),
  ...kafkaClientEnv,
  SPORBAR_TOPIC: envString({ default: 'sporbar.disclosures', meaning: 'the disclosures topic' }),
  SPORBAR_SPOOL_DIR: envString({ default: 'data/retention-spool', meaning: "the producer's durable spool (fsync'd, bounded) while Kafka is away" }),
  SPORBAR_SEAL_PUBLIC_KEY: envSecret({ required: true, bytes: 32, meaning: 'base64url X25519 public key that seals subjects (shared with every producer)' }),
  SPORBAR_ROUTING_SECRET: envSecret({ required: true, bytes: { min: 32 }, meaning: 'partition-key secret (≥ 32 bytes, base64url) shared with every producer' }),
  SPORBAR_PRODUCER_KEY: envSecret({
    required: true,
    meaning: "the retention worker's producer key `<hmac-sha256|ed25519>:<keyId>:<base64url secret>` (principal `sporbar-retention` in the producer registry): authenticates its RetentionExpired events",
    check: (value) => void parseProducerKey(RETENTION_PRODUCER_ID, value),
  }),
  METRICS_HOST: envString({ default: '127.0.0.1', meaning: 'where `/metrics`, `/health` and `/ready` listen (`0.0.0.0` for a scraper on another host)' }),
  // 9466: next to the ingest's 9464 and the projector's 9465, so all three run on one host with their defaults.
  METRICS_PORT: envInteger({ default: 9466, minimum: 0, maximum: 65535, meaning: 'Prometheus `/metrics` (runs, expired, overdue, active), `/health` and `/ready`; 0 picks a free port' }),
} as const;

export interface RetentionConfig {
  readonly logLevel: string;
  readonly readModelsDatabaseUrl: string;
  readonly intervalSeconds: number;
  /** kafkajs' brokers, TLS and SASL (KAFKA_*) of the RetentionExpired producer. */
  readonly kafka: KafkaClientOptions;
  readonly topic: string;
  readonly spoolDir: string;
  readonly sealPublicKey: string;
  readonly routingSecret: string;
  /** Authenticates the RetentionExpired events it sends (principal sporbar-retention). */
  readonly producerKey: ProducerKey;
  readonly metricsHost: string;
  readonly metricsPort: number;
}

/** Reads the retention worker's configuration: every problem in one SPB_ERR_CONFIG. */
export function retentionConfigFromEnv(env: Env = process.env): RetentionConfig {
  return loadConfig('sporbar-retention', retentionEnv, env, (v, problems) => ({
    logLevel: v.LOG_LEVEL,
    readModelsDatabaseUrl: v.READ_MODELS_DATABASE_URL ?? v.DATABASE_URL,
    intervalSeconds: v.SPORBAR_RETENTION_INTERVAL_SECONDS,
    kafka: kafkaClientOptionsFrom(v, problems),
    topic: v.SPORBAR_TOPIC,
    spoolDir: v.SPORBAR_SPOOL_DIR,
    sealPublicKey: v.SPORBAR_SEAL_PUBLIC_KEY,
    routingSecret: v.SPORBAR_ROUTING_SECRET,
    producerKey: parseProducerKey(RETENTION_PRODUCER_ID, v.SPORBAR_PRODUCER_KEY),
    metricsHost: v.METRICS_HOST,
    metricsPort: v.METRICS_PORT,
  }));
}
