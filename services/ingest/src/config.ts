import { SporbarError } from '@sporbar/common/errors';
import { checkBase64urlBytes, envInteger, envOneOf, envSecret, envString, kafkaClientEnv, kafkaClientOptionsFrom, loadConfig, logLevelEnv, registerDirEnv, type ConfigProblems, type Env, type EnvValues, type KafkaClientOptions } from '@sporbar/common/config';
import { databaseUrlFrom, eventStoreConfigFrom, eventStoreEnv, type EventStoreConfig, type EventStoreEnvOptions } from '@sporbar/event-store';
import { createPseudonymiser, loadProducerRegistryFile, MASTER_KEY_ID_PATTERN, parsePreviousPseudonymKeys, parsePreviousMasterKeys, parseMasterKey, type MasterKey } from '@sporbar/key-store';
import { loadRegisterSource, registerFiles as packagedRegisterFiles, type ProducerRegistry, type RegisterFiles } from '@sporbar/schemas';

/** `key,key,…` → keys (blank entries dropped). */
const sealKeyList = (value: string | undefined): string[] => (value ?? '').split(',').map((k) => k.trim()).filter(Boolean);

/** The ingest runs on every adapter; SPORBAR_STORE defaults to postgres. */
const STORE: EventStoreEnvOptions = { databaseUrlNote: 'and of the subject key table (beside EventStoreDB too)' };

/** What both commands read: where the disclosures and the dead letters are. */
export const ingestKafkaEnv = {
  ...logLevelEnv,
  ...kafkaClientEnv,
  SPORBAR_TOPIC: envString({ default: 'sporbar.disclosures', meaning: 'the disclosures topic' }),
  SPORBAR_DLQ_TOPIC: envString({ defaultDoc: '`<topic>.dlq`', meaning: 'the dead-letter topic' }),
} as const;

/** `sporbar-ingest run`. */
export const ingestEnv = {
  ...ingestKafkaEnv,
  SPORBAR_GROUP_ID: envString({ default: 'sporbar-ingest', meaning: 'consumer group' }),
  ...registerDirEnv,
  SPORBAR_PARTITIONS: envInteger({ default: 6, minimum: 1, meaning: 'partitions when the topic is created' }),
  SPORBAR_INGEST_CONCURRENCY: envInteger({ default: 3, minimum: 1, meaning: 'partitions worked on at once per instance (CPU of one overlaps the database write of another)' }),
  ...eventStoreEnv(STORE),
  SPORBAR_SEAL_PRIVATE_KEY: envSecret({ required: true, bytes: 32, meaning: 'base64url X25519 private key that opens sealed subjects' }),
  SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS: envSecret({
    meaning: 'seal private keys rotated out, `key,key,…` (base64url): envelopes sealed to them still open until every producer uses the new public key',
    check: (value) => sealKeyList(value).forEach((k) => checkBase64urlBytes(k, 32)),
  }),
  SPORBAR_PSEUDONYM_KEY: envSecret({ required: true, bytes: { min: 32 }, meaning: 'HMAC key (≥ 32 bytes, base64url) of the pseudonyms' }),
  SPORBAR_PSEUDONYM_KEY_ID: envString({ default: 'k1', pattern: '^[a-z0-9]{1,8}$', meaning: "the pseudonym key's id (1-8 of a-z 0-9)" }),
  SPORBAR_PSEUDONYM_PREVIOUS_KEYS: envSecret({
    meaning: 'rotated-out pseudonym keys `id:secret,…`: an erasure shreds the data keys under every pseudonym of the subject',
    check: (value) => void parsePreviousPseudonymKeys(value),
  }),
  SPORBAR_MASTER_KEY: envSecret({
    required: true,
    meaning: '32 bytes base64url: wraps the per-subject data keys',
    check: (secret) => void parseMasterKey({ id: 'm1', secret }, 'the master key'),
  }),
  SPORBAR_MASTER_KEY_ID: envString({ default: 'm1', pattern: MASTER_KEY_ID_PATTERN.source, meaning: "the master key's id (1-8 of a-z 0-9)" }),
  SPORBAR_MASTER_PREVIOUS_KEYS: envSecret({
    meaning: 'masters being rotated out, `id:secret,…`: they still unwrap data keys `sporbar keys rotate master --finish` has not re-wrapped yet',
    check: (value) => void parsePreviousMasterKeys(value),
  }),
  SPORBAR_PRODUCER_REGISTRY: envString({
    required: true,
    meaning: 'path of the producer registry (JSON): who may write, with which keys, which event types and activities; a secret file when it holds HMAC keys',
  }),
  SPORBAR_ENV: envString({ default: 'production', meaning: 'only `development` (exactly) accepts a producer registry marked `development` (public keys)' }),
  SPORBAR_INSECURE_NO_PRODUCER_AUTH: envOneOf(['true', 'false'], {
    default: 'false',
    meaning:
      '`true` stores events without checking their producer authenticator or allow-list (the pipeline bench\'s authentication-off side); refused unless `SPORBAR_ENV=development` exactly, logged as a warning at start',
  }),
  METRICS_HOST: envString({ default: '127.0.0.1', meaning: 'where `/metrics`, `/health` and `/ready` listen (`0.0.0.0` for a scraper on another host)' }),
  METRICS_PORT: envInteger({ default: 9464, minimum: 0, maximum: 65535, meaning: 'Prometheus `/metrics`, `/health` and `/ready`; 0 picks a free port' }),
} as const;

export interface IngestKafkaConfig {
  readonly logLevel: string;
  /** kafkajs' brokers, TLS and SASL (KAFKA_*): spread into `new Kafka({ clientId, ...kafka })`. */
  readonly kafka: KafkaClientOptions;
  readonly topic: string;
  readonly dlqTopic: string;
}

export interface IngestConfig extends IngestKafkaConfig {
  /** SPORBAR_REGISTER_DIR (undefined: the packaged register). */
  readonly registerDir: string | undefined;
  readonly groupId: string;
  readonly partitions: number;
  readonly store: EventStoreConfig;
  /** The subject key table's database: the store's with postgres, DATABASE_URL beside EventStoreDB. */
  readonly keysDatabaseUrl: string;
  readonly sealPrivateKey: string;
  /** Rotated-out seal keys that still open envelopes (SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS). */
  readonly previousSealPrivateKeys: readonly string[];
  readonly pseudonymKey: { readonly id: string; readonly secret: string };
  /** After a pseudonym key rotation: the old keys, so an erasure reaches what was stored under them. */
  readonly previousPseudonymKeys: ReadonlyArray<{ readonly id: string; readonly secret: string }>;
  /** Wraps the per-subject data keys (kept in the subject_keys table of the same database). */
  readonly masterKey: MasterKey;
  /** Masters being rotated out (SPORBAR_MASTER_PREVIOUS_KEYS): they still unwrap, never wrap. */
  readonly previousMasterKeys: readonly MasterKey[];
  readonly metricsHost: string;
  readonly metricsPort: number;
  /**
   * The producer registry read from SPORBAR_PRODUCER_REGISTRY, its activity ids checked against the register
   * the ingest runs with (any notice version's activity): SPORBAR_REGISTER_DIR's, else the packaged one.
   */
  readonly producers: ProducerRegistry;
  /** Partitions consumed at the same time (SPORBAR_INGEST_CONCURRENCY, default 3). */
  readonly concurrency: number;
  /**
   * SPORBAR_INSECURE_NO_PRODUCER_AUTH=true: no authenticator or allow-list check (development only, for
   * measuring what producer authentication costs); refused in production.
   */
  readonly unauthenticatedProducers: boolean;
}

const kafkaPart = (v: EnvValues<typeof ingestKafkaEnv>, problems: ConfigProblems): IngestKafkaConfig => ({
  logLevel: v.LOG_LEVEL,
  kafka: kafkaClientOptionsFrom(v, problems),
  topic: v.SPORBAR_TOPIC,
  dlqTopic: v.SPORBAR_DLQ_TOPIC ?? `${v.SPORBAR_TOPIC}.dlq`,
});

/** `sporbar-ingest redrive`: the topics only, no keys. */
export function redriveConfigFromEnv(env: Env = process.env): IngestKafkaConfig {
  return loadConfig('sporbar-ingest redrive', ingestKafkaEnv, env, kafkaPart);
}

/**
 * The authentication-off switch: honoured only with SPORBAR_ENV=development exactly (fail closed: any
 * other value, unset included, is production, and the switch is then a configuration problem).
 */
function unauthenticatedProducers(v: EnvValues<typeof ingestEnv>, problems: ConfigProblems): boolean {
  if (v.SPORBAR_INSECURE_NO_PRODUCER_AUTH !== 'true') return false;
  if (v.SPORBAR_ENV === 'development') return true;
  problems.add('SPORBAR_INSECURE_NO_PRODUCER_AUTH', 'stores events without checking their producer: refused unless SPORBAR_ENV=development');
  return false;
}

/**
 * `sporbar-ingest run`'s configuration. `register`: the register files the ingest runs with, which the
 * producer registry's activity ids are checked against (default: the packaged ones). With
 * SPORBAR_REGISTER_DIR set they must be that directory's: `loadIngestConfig` loads it first; without
 * them the producer registry is refused rather than checked against the wrong register.
 */
export function ingestConfigFromEnv(env: Env = process.env, register?: RegisterFiles): IngestConfig {
  return loadConfig('sporbar-ingest', ingestEnv, env, (v, problems) => ({
    ...kafkaPart(v, problems),
    concurrency: v.SPORBAR_INGEST_CONCURRENCY,
    registerDir: v.SPORBAR_REGISTER_DIR,
    groupId: v.SPORBAR_GROUP_ID,
    partitions: v.SPORBAR_PARTITIONS,
    store: eventStoreConfigFrom(v, problems, STORE),
    keysDatabaseUrl: databaseUrlFrom(v, STORE)!,
    sealPrivateKey: v.SPORBAR_SEAL_PRIVATE_KEY,
    previousSealPrivateKeys: sealKeyList(v.SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS),
    pseudonymKey: { id: v.SPORBAR_PSEUDONYM_KEY_ID, secret: v.SPORBAR_PSEUDONYM_KEY },
    previousPseudonymKeys: problems.check('SPORBAR_PSEUDONYM_PREVIOUS_KEYS', () => {
      const previous = parsePreviousPseudonymKeys(v.SPORBAR_PSEUDONYM_PREVIOUS_KEYS);
      createPseudonymiser({ id: v.SPORBAR_PSEUDONYM_KEY_ID, secret: v.SPORBAR_PSEUDONYM_KEY }, previous);
      return previous;
    }),
    masterKey: problems.check('SPORBAR_MASTER_KEY', () => parseMasterKey({ id: v.SPORBAR_MASTER_KEY_ID, secret: v.SPORBAR_MASTER_KEY }, 'the master key')),
    previousMasterKeys: parsePreviousMasterKeys(v.SPORBAR_MASTER_PREVIOUS_KEYS),
    metricsHost: v.METRICS_HOST,
    metricsPort: v.METRICS_PORT,
    producers: problems.check('SPORBAR_PRODUCER_REGISTRY', () => {
      if (register === undefined && v.SPORBAR_REGISTER_DIR !== undefined) throw new SporbarError('SPB_ERR_CONFIG', 'cannot be checked: SPORBAR_REGISTER_DIR is set but was not loaded (read the configuration with loadIngestConfig)');
      const registry = loadProducerRegistryFile(v.SPORBAR_PRODUCER_REGISTRY, register ?? packagedRegisterFiles);
      if (registry.development && v.SPORBAR_ENV !== 'development') throw new SporbarError('SPB_ERR_CONFIG', 'is the development producer registry (public keys): refused unless SPORBAR_ENV=development');
      if (registry.keysOmitted) throw new SporbarError('SPB_ERR_CONFIG', 'is an allow-list without keys (keysOmitted): the ingest verifies authenticators and needs the registry with keys');
      return registry;
    }),
    unauthenticatedProducers: unauthenticatedProducers(v, problems),
  }));
}

/**
 * `sporbar-ingest run`'s start: the register files (SPORBAR_REGISTER_DIR, else the packaged ones; an
 * invalid directory is SPB_ERR_CONFIG listing its problems), then the configuration, its producer
 * registry checked against those files, so a notice added as files only can be allowed to producers.
 */
export async function loadIngestConfig(env: Env = process.env): Promise<{ readonly config: IngestConfig; readonly registerFiles: RegisterFiles }> {
  const dir = loadConfig('sporbar-ingest', registerDirEnv, env, (v) => v.SPORBAR_REGISTER_DIR);
  const registerFiles = await loadRegisterSource('sporbar-ingest', dir);
  return { config: ingestConfigFromEnv(env, registerFiles), registerFiles };
}
