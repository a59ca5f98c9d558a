import { envInteger, envSecret, envString, loadConfig, logLevelEnv, type Env } from '@sporbar/common/config';
import { SporbarError } from '@sporbar/common/errors';
import { databaseUrlFrom, eventStoreConfigFrom, eventStoreEnv, type EventStoreConfig, type EventStoreEnvOptions } from '@sporbar/event-store';
import { loadPolicyFile, loadSigningKey, loadVerifyingKey, logOrigin, ORIGIN_PREFIX, type LoadedPolicy, type SigningKey, type VerifyingKey } from '@sporbar/auditor';

/** The log service reads PostgreSQL or EventStoreDB; the signer's lock is a PostgreSQL advisory lock either way. */
const STORE: EventStoreEnvOptions = {
  adapters: ['postgres', 'eventstoredb'],
  note: 'the embedded default runs its log in process',
  databaseUrlNote: "(and of the signer's advisory lock, beside EventStoreDB too)",
};

/** The origin a development log gets when none is configured (production requires one). */
export const DEVELOPMENT_ORIGIN = logOrigin('development');

/** `sporbar-log`: the production log service. */
export const logServiceEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the log service listens (`/v1/log/*`, `/health`, `/ready`, `/metrics`)' }),
  PORT: envInteger({ default: 3200, minimum: 0, maximum: 65535, meaning: 'where the log service listens (0 picks a free port)' }),
  SPORBAR_ENV: envString({ default: 'production', meaning: 'only exactly `development` lets the log origin default to `sporbar.v1/development`' }),
  ...eventStoreEnv(STORE),
  SPORBAR_LOG_ORIGIN: envString({ defaultDoc: '— (required unless `SPORBAR_ENV=development`)', meaning: 'the log\'s origin line, `sporbar.v1/<log id>` (or give `SPORBAR_LOG_ID`); required in production' }),
  SPORBAR_LOG_ID: envString({ meaning: 'the log id: the origin is `sporbar.v1/<log id>`' }),
  SPORBAR_CHECKPOINT_KEY: envSecret({ defaultDoc: '— (this or a signer command)', meaning: 'the checkpoint signing key, Ed25519 PKCS#8 PEM (`sporbar keys init` writes `checkpoint.key`); or a signer command' }),
  SPORBAR_CHECKPOINT_SIGNER_COMMAND: envString({
    meaning: 'instead of a key file, a KMS-style signer: a command (`/bin/sh -c`) that gets the bytes to sign on stdin and as the file `$SPORBAR_SIGN_MESSAGE_FILE` and prints the Ed25519 signature, raw or base64; with `SPORBAR_CHECKPOINT_PUBLIC_KEY`',
  }),
  SPORBAR_CHECKPOINT_PUBLIC_KEY: envSecret({ meaning: "the checkpoint public key (SPKI PEM, `checkpoint.pub.pem`): required with a signer command, and must match a key file; the signer's signature is checked against it at start" }),
  SPORBAR_CHECKPOINT_SIGNER_TIMEOUT_SECONDS: envInteger({ default: 10, minimum: 1, maximum: 300, meaning: 'how long one run of the signer command may take' }),
  SPORBAR_CHECKPOINT_INTERVAL_SECONDS: envInteger({ default: 60, minimum: 1, meaning: 'a checkpoint is signed this often when any event is uncovered, and once more at shutdown' }),
  SPORBAR_CHECKPOINT_EVERY_EVENTS: envInteger({ default: 1000, minimum: 1, meaning: '…and as soon as this many events are uncovered' }),
  SPORBAR_WITNESS_POLICY_FILE: envString({
    defaultDoc: '— (required unless `SPORBAR_ENV=development`; `quorum none` for no witnesses)',
    meaning: "the witness policy, a C2SP tlog-policy file: this log's `log` line, a `witness <name> <vkey> <submission URL>` line per witness and the quorum; each checkpoint is sent to every witness and published with their cosignatures, judged by the quorum",
  }),
  SPORBAR_WITNESS_TIMEOUT_SECONDS: envInteger({ default: 10, minimum: 1, maximum: 300, meaning: 'how long one add-checkpoint request to a witness may take before it counts as unavailable' }),
  SPORBAR_WITNESS_RETRY_MAX_SECONDS: envInteger({ default: 60, minimum: 1, maximum: 3600, meaning: 'an unavailable witness is retried after 1 s, doubling up to this; a newer checkpoint replaces the one waiting' }),
  SPORBAR_SUBJECT_MAP_KEY: envSecret({
    bytes: { min: 32 },
    defaultDoc: '— (required unless `SPORBAR_ENV=development`)',
    meaning: "the subject map's key (≥ 32 bytes, base64url; `sporbar keys init` writes `subject-map.key`): a subject's map index is a keyed hash of their pseudonym; the same key in the access API and the auditor",
  }),
  SPORBAR_SUBJECT_MAP_INTERVAL_SECONDS: envInteger({ default: 60, minimum: 1, meaning: "the subject map's root is committed to the log this often when any disclosure waits outside it (a citizen's newest disclosures are proven complete after at most this long)" }),
  SPORBAR_SUBJECT_MAP_EVERY_EVENTS: envInteger({ default: 100_000, minimum: 1, meaning: '…and as soon as this many disclosures wait' }),
  SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS: envInteger({
    default: 21_600,
    minimum: 1,
    maximum: 21_600,
    meaning:
      "…and, with none waiting, once the newest commitment is this old (a heartbeat): citizens' checks refuse a map older than 6 h + 1 h (a stale map could hide newer disclosures), so it cannot be longer than 6 h",
  }),
  SPORBAR_LEADER_RETRY_SECONDS: envInteger({ default: 5, minimum: 1, meaning: 'how often a standby instance tries to become the signer (a PostgreSQL advisory lock)' }),
} as const;

export type LogSignerConfig =
  | { readonly kind: 'key'; readonly key: SigningKey }
  | { readonly kind: 'command'; readonly command: string; readonly timeoutMs: number };

export interface LogServiceConfig {
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  /** Everything but SPORBAR_ENV=development exactly (fail closed). */
  readonly production: boolean;
  readonly store: EventStoreConfig;
  /** The PostgreSQL that holds the signer's advisory lock (the store's own with SPORBAR_STORE=postgres). */
  readonly lockDatabaseUrl: string;
  readonly origin: string;
  readonly signer: LogSignerConfig;
  /** The key checkpoints verify under (the key file's own, or SPORBAR_CHECKPOINT_PUBLIC_KEY). */
  readonly publicKey: VerifyingKey;
  readonly intervalMs: number;
  readonly everyEvents: number;
  readonly leaderRetryMs: number;
  /** The witness policy (SPORBAR_WITNESS_POLICY_FILE), when one is configured. */
  readonly witnessPolicy: LoadedPolicy | undefined;
  readonly witnessTimeoutMs: number;
  readonly witnessRetryMaxMs: number;
  /** The subject map (SPORBAR_SUBJECT_MAP_KEY): undefined only in development without a key (no map kept). */
  readonly subjectMap: { readonly key: Buffer; readonly everyMs: number; readonly everyEvents: number; readonly heartbeatMs: number } | undefined;
}

export function logServiceConfigFromEnv(env: Env = process.env): LogServiceConfig {
  return loadConfig('sporbar-log', logServiceEnv, env, (v, problems) => {
    const production = env['SPORBAR_ENV'] !== 'development';
    const store = eventStoreConfigFrom(v, problems, STORE);

    let origin = DEVELOPMENT_ORIGIN;
    if (v.SPORBAR_LOG_ORIGIN !== undefined && v.SPORBAR_LOG_ID !== undefined) problems.add('SPORBAR_LOG_ID', 'give SPORBAR_LOG_ORIGIN or SPORBAR_LOG_ID, not both');
    else if (v.SPORBAR_LOG_ORIGIN !== undefined) {
      const o = v.SPORBAR_LOG_ORIGIN;
      origin = problems.check('SPORBAR_LOG_ORIGIN', () => {
        if (!o.startsWith(ORIGIN_PREFIX)) throw new SporbarError('SPB_ERR_CONFIG', `must be '${ORIGIN_PREFIX}<log id>', got '${o}'`);
        return logOrigin(o.slice(ORIGIN_PREFIX.length));
      });
    } else if (v.SPORBAR_LOG_ID !== undefined) {
      const id = v.SPORBAR_LOG_ID;
      origin = problems.check('SPORBAR_LOG_ID', () => logOrigin(id));
    } else if (production) problems.add('SPORBAR_LOG_ORIGIN', 'is required (or SPORBAR_LOG_ID) unless SPORBAR_ENV=development: it names the log in every checkpoint');

    const keyMaterial = v.SPORBAR_CHECKPOINT_KEY;
    const command = v.SPORBAR_CHECKPOINT_SIGNER_COMMAND;
    const publicMaterial = v.SPORBAR_CHECKPOINT_PUBLIC_KEY;
    const publicKey = publicMaterial === undefined ? undefined : problems.check('SPORBAR_CHECKPOINT_PUBLIC_KEY', () => loadVerifyingKey(publicMaterial));
    let signer: LogSignerConfig | undefined;
    let verifying: VerifyingKey | undefined = publicKey;
    if (keyMaterial !== undefined && command !== undefined) {
      problems.add('SPORBAR_CHECKPOINT_SIGNER_COMMAND', 'give a signing key (SPORBAR_CHECKPOINT_KEY_FILE) or a signer command, not both');
    } else if (keyMaterial !== undefined) {
      const key = problems.check('SPORBAR_CHECKPOINT_KEY', () => loadSigningKey(keyMaterial));
      if (key) {
        signer = { kind: 'key', key };
        if (publicKey && publicKey.keyId !== key.keyId) problems.add('SPORBAR_CHECKPOINT_PUBLIC_KEY', `is key ${publicKey.keyId}, not the signing key's public half (${key.keyId})`);
        verifying = key;
      }
    } else if (command !== undefined) {
      if (command.trim() === '') problems.add('SPORBAR_CHECKPOINT_SIGNER_COMMAND', 'is empty');
      else signer = { kind: 'command', command, timeoutMs: v.SPORBAR_CHECKPOINT_SIGNER_TIMEOUT_SECONDS * 1000 };
      if (publicMaterial === undefined) problems.add('SPORBAR_CHECKPOINT_PUBLIC_KEY', 'is required (or SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE) with a signer command: the signatures are checked against it');
    } else {
      problems.add('SPORBAR_CHECKPOINT_KEY', 'is required (SPORBAR_CHECKPOINT_KEY_FILE: an Ed25519 PKCS#8 PEM), or SPORBAR_CHECKPOINT_SIGNER_COMMAND with SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: nothing signs checkpoints otherwise');
    }

    const policyFile = v.SPORBAR_WITNESS_POLICY_FILE;
    const witnessPolicy = policyFile === undefined ? undefined : problems.check('SPORBAR_WITNESS_POLICY_FILE', () => loadPolicyFile(policyFile, { origin }));
    // Fail closed: a production log names its witnesses, or says in writing that it has none (`quorum none`).
    if (policyFile === undefined && production) problems.add('SPORBAR_WITNESS_POLICY_FILE', "is required unless SPORBAR_ENV=development: the witnesses that cosign this log's checkpoints and their quorum (a C2SP tlog-policy; write `quorum none` with this log's `log` line to run without)");

    const mapKey = v.SPORBAR_SUBJECT_MAP_KEY;
    if (mapKey === undefined && production) problems.add('SPORBAR_SUBJECT_MAP_KEY', "is required unless SPORBAR_ENV=development (SPORBAR_SUBJECT_MAP_KEY_FILE: `sporbar keys init` writes subject-map.key): without the subject map no citizen can check that their report leaves nothing out");

    return {
      logLevel: v.LOG_LEVEL,
      host: v.HOST,
      port: v.PORT,
      production,
      store,
      lockDatabaseUrl: store.adapter === 'postgres' ? (store.connectionString ?? '') : (databaseUrlFrom(v, STORE) ?? ''),
      origin,
      // Never read when a problem was recorded: loadConfig throws first.
      signer: signer!,
      publicKey: verifying!,
      intervalMs: v.SPORBAR_CHECKPOINT_INTERVAL_SECONDS * 1000,
      everyEvents: v.SPORBAR_CHECKPOINT_EVERY_EVENTS,
      leaderRetryMs: v.SPORBAR_LEADER_RETRY_SECONDS * 1000,
      witnessPolicy,
      witnessTimeoutMs: v.SPORBAR_WITNESS_TIMEOUT_SECONDS * 1000,
      witnessRetryMaxMs: v.SPORBAR_WITNESS_RETRY_MAX_SECONDS * 1000,
      subjectMap: mapKey === undefined ? undefined : { key: Buffer.from(mapKey, 'base64url'), everyMs: v.SPORBAR_SUBJECT_MAP_INTERVAL_SECONDS * 1000, everyEvents: v.SPORBAR_SUBJECT_MAP_EVERY_EVENTS, heartbeatMs: v.SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS * 1000 },
    };
  });
}
