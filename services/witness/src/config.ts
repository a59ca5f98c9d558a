import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { envInteger, envSecret, envString, loadConfig, logLevelEnv, type Env } from '@sporbar/common/config';
import { SporbarError } from '@sporbar/common/errors';
import { parseLogsFile, LogsFileError, type LogVerifiers } from './logs.ts';
import { isValidKeyName } from '@sporbar/auditor/note';

/** The witness's environment, declared once (the README's configuration table is generated from it). */
export const witnessEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the witness listens' }),
  PORT: envInteger({ default: 3300, minimum: 0, maximum: 65535, meaning: 'where the witness listens (`POST /add-checkpoint`, its vkey at `/`)' }),
  SPORBAR_WITNESS_NAME: envString({
    required: true,
    meaning: "the witness's cosigner name, a schema-less URL such as `datatilsynet.dk/witness` (C2SP key name: no spaces, no `+`)",
    check: (v) => {
      if (!isValidKeyName(v)) throw new SporbarError('SPB_ERR_CONFIG', 'must be non-empty without spaces, control characters or +');
      if (Buffer.byteLength(v) > 255) throw new SporbarError('SPB_ERR_CONFIG', 'must be at most 255 bytes');
    },
  }),
  SPORBAR_WITNESS_KEY: envSecret({
    required: true,
    meaning: "the witness's Ed25519 private key, PKCS#8 PEM (`sporbar-witness keygen` writes one)",
    check: (v) => void ed25519PrivateKey(v),
  }),
  SPORBAR_WITNESS_LOGS: envString({
    required: true,
    minLength: 1,
    meaning: 'path of the JSON file of the logs it witnesses: `{"logs": [{"origin": …, "keys": [<vkey>, …]}]}`, each key a C2SP vkey of type Ed25519 (0x01)',
  }),
  DATABASE_URL: envString({ required: true, redact: true, meaning: "PostgreSQL of the witness's state (its own database; the schema below)" }),
  SPORBAR_WITNESS_SCHEMA: envString({ default: 'witness', pattern: '^[a-z_][a-z0-9_]{0,62}$', meaning: 'the schema of its tables (`witness_checkpoints`, `witness_evidence`), created and migrated at start' }),
} as const;

export interface WitnessConfig {
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly privateKey: KeyObject;
  readonly logs: LogVerifiers;
  readonly databaseUrl: string;
  readonly schema: string;
}

function ed25519PrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SporbarError('SPB_ERR_CONFIG', 'is not a PEM private key (PKCS#8)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SporbarError('SPB_ERR_CONFIG', `must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** Reads the witness's configuration: every problem in one SPB_ERR_CONFIG. */
export function readWitnessConfig(env: Env = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): WitnessConfig {
  return loadConfig('sporbar-witness', witnessEnv, env, (v, problems) => {
    const logs = problems.check('SPORBAR_WITNESS_LOGS', () => {
      let text: string;
      try {
        text = readFile(v.SPORBAR_WITNESS_LOGS);
      } catch (err) {
        throw new SporbarError('SPB_ERR_CONFIG', `cannot read '${v.SPORBAR_WITNESS_LOGS}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      try {
        return parseLogsFile(text);
      } catch (err) {
        if (err instanceof LogsFileError) throw new SporbarError('SPB_ERR_CONFIG', `'${v.SPORBAR_WITNESS_LOGS}': ${err.problems.join('; ')}`);
        throw err;
      }
    });
    return {
      logLevel: v.LOG_LEVEL,
      host: v.HOST,
      port: v.PORT,
      name: v.SPORBAR_WITNESS_NAME,
      privateKey: ed25519PrivateKey(v.SPORBAR_WITNESS_KEY),
      logs,
      databaseUrl: v.DATABASE_URL,
      schema: v.SPORBAR_WITNESS_SCHEMA,
    };
  });
}
