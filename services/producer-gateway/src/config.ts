import { envInteger, envList, envSecret, envString, loadConfig, logLevelEnv, type Env } from '@sporbar/common/config';
import { parseProducerKey, type ProducerKey } from '@sporbar/key-store/producer-auth';

/** The producer gateway's environment, declared once (the README's configuration table is generated from it). */
export const gatewayEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the gateway listens' }),
  PORT: envInteger({ default: 3100, minimum: 0, maximum: 65535, meaning: 'where the gateway listens' }),
  KAFKA_BROKERS: envList({ default: '127.0.0.1:9092', meaning: 'comma-separated bootstrap brokers' }),
  SPORBAR_TOPIC: envString({ default: 'sporbar.disclosures', meaning: 'the disclosures topic' }),
  // The spool directory of the endpoint's first home (the SDK's sporbar-http-ingest): a spool left there is still delivered.
  SPORBAR_SPOOL_DIR: envString({ default: 'data/http-ingest-spool', meaning: "the producer's durable spool (fsync'd, bounded) while Kafka is away" }),
  SPORBAR_SEAL_PUBLIC_KEY: envSecret({ required: true, bytes: 32, meaning: 'base64url X25519 public key that seals subjects (shared with every producer)' }),
  SPORBAR_ROUTING_SECRET: envSecret({ required: true, bytes: { min: 32 }, meaning: 'partition-key secret (≥ 32 bytes, base64url) shared with every producer' }),
  SPORBAR_SOURCE_SYSTEM: envString({ default: 'http-ingest', meaning: 'the `sourceSystem` of the events it records, and its producer id in the producer registry' }),
  SPORBAR_PRODUCER_KEY: envSecret({
    required: true,
    meaning: 'its producer key `<hmac-sha256|ed25519>:<keyId>:<base64url secret>` (the producer registry lists it): authenticates every event it sends',
    check: (value) => void parseProducerKey('http-ingest', value),
  }),
} as const;

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly spoolDir: string;
  readonly sealPublicKey: string;
  readonly routingSecret: string;
  readonly sourceSystem: string;
  /** Authenticates its events to the ingest; its producer id is sourceSystem. */
  readonly producerKey: ProducerKey;
}

/** Reads the gateway's configuration: every problem in one SPB_ERR_CONFIG. */
export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  return loadConfig('sporbar-producer-gateway', gatewayEnv, env, (v) => ({
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    brokers: v.KAFKA_BROKERS,
    topic: v.SPORBAR_TOPIC,
    spoolDir: v.SPORBAR_SPOOL_DIR,
    sealPublicKey: v.SPORBAR_SEAL_PUBLIC_KEY,
    routingSecret: v.SPORBAR_ROUTING_SECRET,
    sourceSystem: v.SPORBAR_SOURCE_SYSTEM,
    producerKey: parseProducerKey(v.SPORBAR_SOURCE_SYSTEM, v.SPORBAR_PRODUCER_KEY),
  }));
}
