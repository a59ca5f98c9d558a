import { envInteger, envSecret, envString, kafkaClientEnv, kafkaClientOptionsFrom, loadConfig, logLevelEnv, registerDirEnv, type Env, type KafkaClientOptions } from '@sporbar/common/config';
import { parseProducerKey, type ProducerKey } from '@sporbar/key-store/producer-auth';
import { loadProducerRegistryFile } from '@sporbar/key-store';
import { SporbarError } from '@sporbar/common/errors';
import { loadRegisterSource, registerFiles as packagedRegisterFiles, type ProducerRegistry, type RegisterFiles } from '@sporbar/schemas';
import { allowListsOf, clientsRegistryProblems, parseGatewayClients, type GatewayClients } from './clients.ts';

/** The producer gateway's environment, declared once (the README's configuration table is generated from it). */
export const gatewayEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the gateway listens' }),
  PORT: envInteger({ default: 3100, minimum: 0, maximum: 65535, meaning: 'where the gateway listens' }),
  ...kafkaClientEnv,
  SPORBAR_TOPIC: envString({ default: 'sporbar.disclosures', meaning: 'the disclosures topic' }),
  // The spool directory of the endpoint's first home (the SDK's sporbar-http-ingest): a spool left there is still delivered.
  SPORBAR_SPOOL_DIR: envString({ default: 'data/http-ingest-spool', meaning: "the producer's durable spool (fsync'd, bounded) while Kafka is away" }),
  SPORBAR_SEAL_PUBLIC_KEY: envSecret({ required: true, bytes: 32, meaning: 'base64url X25519 public key that seals subjects (shared with every producer)' }),
  SPORBAR_ROUTING_SECRET: envSecret({ required: true, bytes: { min: 32 }, meaning: 'partition-key secret (≥ 32 bytes, base64url) shared with every producer' }),
  SPORBAR_GATEWAY_ISSUER: envString({
    required: true,
    meaning: "the OAuth2 authorization server whose access tokens it accepts: their `iss`, exactly (discovery at `<issuer>/.well-known/openid-configuration`)",
    check: (v) => {
      const url = URL.canParse(v) ? new URL(v) : undefined;
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new SporbarError('SPB_ERR_CONFIG', 'must be an http(s) URL');
    },
  }),
  SPORBAR_GATEWAY_AUDIENCE: envString({ default: 'sporbar-producer-gateway', minLength: 1, meaning: 'a value the access token\'s `aud` must contain' }),
  SPORBAR_GATEWAY_CLIENTS: envString({
    required: true,
    meaning: "which OAuth2 clients may write, as which producer of the producer registry (the events' `sourceSystem`, whose allow-list applies): `<client id>=<producer id>,…`",
    check: (v) => void parseGatewayClients(v),
  }),
  SPORBAR_PRODUCER_REGISTRY: envString({
    required: true,
    meaning: "path of the producer registry (JSON, the ingest's): each client's producer's allow-list of event types and activities is applied before anything is sent (its keys are not kept)",
  }),
  SPORBAR_ENV: envString({ default: 'production', meaning: 'only `development` (exactly) accepts a producer registry marked `development` (public keys)' }),
  // The gateway classifies nothing: the register is read only to check the producer registry's activity ids (the ingest's register).
  ...registerDirEnv,
  SPORBAR_GATEWAY_TOKEN_MAX_LIFETIME_SECONDS: envInteger({ default: 3600, minimum: 1, maximum: 86_400, meaning: 'an access token living longer (exp − iat), or issued longer ago, is refused' }),
  SPORBAR_GATEWAY_CLOCK_SKEW_SECONDS: envInteger({ default: 10, minimum: 0, maximum: 300, meaning: "allowed clock difference with the issuer for a token's exp, nbf and iat" }),
  SPORBAR_GATEWAY_RATE_LIMIT_MAX: envInteger({ default: 600, minimum: 1, meaning: 'requests per client per window; more are a 429 SPB_ERR_RATE_LIMITED' }),
  SPORBAR_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: envInteger({ default: 60, minimum: 1, maximum: 86_400, meaning: 'the rate limit window' }),
  SPORBAR_GATEWAY_PRODUCER_ID: envString({ default: 'http-ingest', pattern: '^[a-z0-9][a-z0-9-]{0,79}$', meaning: "the gateway's own producer id in the producer registry (whose `sourceSystems` list the producer ids of its clients)" }),
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
  /** kafkajs' brokers, TLS and SASL (KAFKA_*) of the gateway's producer principal. */
  readonly kafka: KafkaClientOptions;
  readonly topic: string;
  readonly spoolDir: string;
  readonly sealPublicKey: string;
  readonly routingSecret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly clients: GatewayClients;
  /**
   * The producer registry's allow-lists (SPORBAR_PRODUCER_REGISTRY, keys dropped): what each client's producer, and the gateway,
   * may send; activity ids checked against the ingest's register (SPORBAR_REGISTER_DIR, else the packaged one; any notice version's).
   */
  readonly producers: ProducerRegistry;
  readonly tokenMaxLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Authenticates the events it sends to the ingest, as the gateway's own producer id. */
  readonly producerKey: ProducerKey;
  /** SPORBAR_REGISTER_DIR (undefined: the packaged register). */
  readonly registerDir: string | undefined;
}

/**
 * Reads the gateway's configuration: every problem in one SPB_ERR_CONFIG. `register`: the register files
 * the producer registry's activity ids are checked against (default: the packaged ones); with
 * SPORBAR_REGISTER_DIR set they must be that directory's (`loadGatewayConfig` loads it first).
 */
export function readGatewayConfig(env: Env = process.env, register?: RegisterFiles): GatewayConfig {
  return loadConfig('sporbar-producer-gateway', gatewayEnv, env, (v, problems) => ({
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    kafka: kafkaClientOptionsFrom(v, problems),
    topic: v.SPORBAR_TOPIC,
    spoolDir: v.SPORBAR_SPOOL_DIR,
    sealPublicKey: v.SPORBAR_SEAL_PUBLIC_KEY,
    routingSecret: v.SPORBAR_ROUTING_SECRET,
    issuer: v.SPORBAR_GATEWAY_ISSUER,
    audience: v.SPORBAR_GATEWAY_AUDIENCE,
    clients: parseGatewayClients(v.SPORBAR_GATEWAY_CLIENTS),
    producers: problems.check('SPORBAR_PRODUCER_REGISTRY', () => {
      if (register === undefined && v.SPORBAR_REGISTER_DIR !== undefined) throw new SporbarError('SPB_ERR_CONFIG', 'cannot be checked: SPORBAR_REGISTER_DIR is set but was not loaded (read the configuration with loadGatewayConfig)');
      const registry = loadProducerRegistryFile(v.SPORBAR_PRODUCER_REGISTRY, register ?? packagedRegisterFiles);
      if (registry.development && v.SPORBAR_ENV !== 'development') throw new SporbarError('SPB_ERR_CONFIG', 'is the development producer registry (public keys): refused unless SPORBAR_ENV=development');
      for (const problem of clientsRegistryProblems(parseGatewayClients(v.SPORBAR_GATEWAY_CLIENTS), registry, v.SPORBAR_GATEWAY_PRODUCER_ID)) problems.add('SPORBAR_GATEWAY_CLIENTS', problem);
      return allowListsOf(registry);
    }),
    tokenMaxLifetimeSeconds: v.SPORBAR_GATEWAY_TOKEN_MAX_LIFETIME_SECONDS,
    clockSkewSeconds: v.SPORBAR_GATEWAY_CLOCK_SKEW_SECONDS,
    rateLimit: { max: v.SPORBAR_GATEWAY_RATE_LIMIT_MAX, windowMs: v.SPORBAR_GATEWAY_RATE_LIMIT_WINDOW_SECONDS * 1000 },
    producerKey: parseProducerKey(v.SPORBAR_GATEWAY_PRODUCER_ID, v.SPORBAR_PRODUCER_KEY),
    registerDir: v.SPORBAR_REGISTER_DIR,
  }));
}

/**
 * The gateway's start: the register files (SPORBAR_REGISTER_DIR, else the packaged ones; an invalid
 * directory is SPB_ERR_CONFIG listing its problems), then the configuration, its producer registry
 * checked against them, so a producer may be allowed an activity of a notice added as files only.
 */
export async function loadGatewayConfig(env: Env = process.env): Promise<GatewayConfig> {
  const dir = loadConfig('sporbar-producer-gateway', registerDirEnv, env, (v) => v.SPORBAR_REGISTER_DIR);
  return readGatewayConfig(env, await loadRegisterSource('sporbar-producer-gateway', dir));
}
