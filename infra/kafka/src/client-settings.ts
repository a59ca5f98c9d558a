/**
 * How a client reaches a Kafka cluster, as plain data: the bootstrap list and, for a secured
 * cluster, TLS (which CA to trust) and SASL/SCRAM credentials. It is JSON-serialisable (vitest's
 * `provide()`, `run/<name>/admin-client.json`) and maps one-to-one onto environment variables, so a
 * spawned service process can be given the same connection:
 *
 *   KAFKA_BROKERS              comma-separated bootstrap addresses (unchanged, plaintext if nothing else is set)
 *   KAFKA_SSL                  "true": TLS with the system CAs (implied by KAFKA_CA_FILE)
 *   KAFKA_CA_FILE              PEM file of the CA that signed the brokers' certificates (implies TLS)
 *   KAFKA_SASL_MECHANISM       "scram-sha-512" (the default when a user name is set; the only one supported)
 *   KAFKA_SASL_USERNAME        SCRAM user
 *   KAFKA_SASL_PASSWORD        its password, or KAFKA_SASL_PASSWORD_FILE: a file holding it
 */
import fs from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';

export interface KafkaSaslSettings {
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaClientSettings {
  brokers: string[];
  /** TLS; `caFile` is the PEM CA to trust (default: Node's system CAs). Absent: plaintext. */
  ssl?: { caFile?: string };
  /** SASL credentials. Absent: no authentication. */
  sasl?: KafkaSaslSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes)$/i.test(v.trim());

/** Settings from the environment contract above; undefined when KAFKA_BROKERS is not set. Throws on half a configuration. */
export function kafkaClientSettingsFromEnv(env: Env): KafkaClientSettings | undefined {
  const brokers = (env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) return undefined;
  const settings: KafkaClientSettings = { brokers };

  const caFile = env['KAFKA_CA_FILE']?.trim();
  if (caFile) settings.ssl = { caFile };
  else if (truthy(env['KAFKA_SSL'])) settings.ssl = {};

  const username = env['KAFKA_SASL_USERNAME']?.trim();
  const passwordFile = env['KAFKA_SASL_PASSWORD_FILE']?.trim();
  const password = passwordFile ? fs.readFileSync(passwordFile, 'utf8').trim() : env['KAFKA_SASL_PASSWORD'];
  const mechanism = (env['KAFKA_SASL_MECHANISM']?.trim() || 'scram-sha-512').toLowerCase();
  if (username || password) {
    if (!username || !password) {
      throw new Error('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) must be set together');
    }
    if (mechanism !== 'scram-sha-512') {
      throw new Error(`KAFKA_SASL_MECHANISM=${mechanism} is not supported (only scram-sha-512)`);
    }
    if (!settings.ssl) {
      throw new Error('SASL credentials are set but TLS is not (KAFKA_CA_FILE or KAFKA_SSL=true): refusing to send them in clear');
    }
    settings.sasl = { mechanism: 'scram-sha-512', username, password };
  }
  return settings;
}

/** The environment variables that describe `settings` (the inverse of kafkaClientSettingsFromEnv). */
export function kafkaClientEnv(settings: KafkaClientSettings): Record<string, string> {
  const env: Record<string, string> = { KAFKA_BROKERS: settings.brokers.join(',') };
  if (settings.ssl?.caFile) env['KAFKA_CA_FILE'] = settings.ssl.caFile;
  else if (settings.ssl) env['KAFKA_SSL'] = 'true';
  if (settings.sasl) {
    env['KAFKA_SASL_MECHANISM'] = settings.sasl.mechanism;
    env['KAFKA_SASL_USERNAME'] = settings.sasl.username;
    env['KAFKA_SASL_PASSWORD'] = settings.sasl.password;
  }
  return env;
}

/** Every variable of the contract, so a caller can clear them all. */
export const KAFKA_CLIENT_ENV_NAMES = [
  'KAFKA_BROKERS',
  'KAFKA_SSL',
  'KAFKA_CA_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
] as const;

/** Something that carries client settings: the settings themselves or a started broker. */
export type KafkaClientTarget = KafkaClientSettings | { readonly clientSettings: KafkaClientSettings };

export function settingsOf(target: KafkaClientTarget): KafkaClientSettings {
  return 'clientSettings' in target ? target.clientSettings : target;
}

/** kafkajs' brokers, ssl and sasl, with the brokers a plain list (so the producer SDK's transport takes them too). */
export type KafkaClientOptions = Pick<KafkaConfig, 'ssl' | 'sasl'> & { brokers: string[] };

/**
 * kafkajs client options (brokers, ssl, sasl) for `target`, authenticated as `as` when given (a
 * principal created with provisionKafkaPrincipals) instead of the target's own credentials
 * (the admin, for a secured broker). Reads the CA file. Spread it into `new Kafka({ clientId, ...options })`.
 */
export function kafkaClientOptions(
  target: KafkaClientTarget,
  as?: { user: string; password: string },
): KafkaClientOptions {
  const settings = settingsOf(target);
  const options: KafkaClientOptions = { brokers: [...settings.brokers] };
  if (settings.ssl) {
    options.ssl = settings.ssl.caFile ? { ca: [fs.readFileSync(settings.ssl.caFile, 'utf8')] } : true;
  }
  const sasl = as ? { username: as.user, password: as.password } : settings.sasl;
  if (sasl) {
    if (!settings.ssl) throw new Error('refusing SASL credentials without TLS');
    options.sasl = { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password } satisfies SASLOptions;
  }
  return options;
}

/**
 * librdkafka properties (kcat `-F <file>`) for `settings`: empty for plaintext; for a secured broker
 * SASL_SSL, the CA and the SCRAM login. Holds the password: write it to a 0600 file, never a command line.
 */
export function librdkafkaProperties(settings: KafkaClientSettings): string {
  const lines: string[] = [];
  if (settings.ssl) {
    lines.push(`security.protocol=${settings.sasl ? 'SASL_SSL' : 'SSL'}`);
    if (settings.ssl.caFile) lines.push(`ssl.ca.location=${settings.ssl.caFile}`);
  }
  if (settings.sasl) lines.push('sasl.mechanisms=SCRAM-SHA-512', `sasl.username=${settings.sasl.username}`, `sasl.password=${settings.sasl.password}`);
  return lines.map((l) => `${l}\n`).join('');
}
