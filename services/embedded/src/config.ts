import { resolve } from 'node:path';
import { envInteger, envString, loadConfig, logLevelEnv, registerDirEnv, type Env } from '@sporbar/common/config';

/** `npm start`: the embedded default, one process, PGlite in the data directory. */
export const embeddedEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the API listens' }),
  PORT: envInteger({ default: 3000, minimum: 0, maximum: 65535, meaning: 'where the API listens' }),
  SPORBAR_DATA_DIR: envString({ default: 'data', meaning: 'PGlite files and the development keys (`dev-keys.json`)' }),
  SPORBAR_SEED_TRANSACTIONS: envInteger({ default: 600, minimum: 0, meaning: 'synthetic transactions on the first start' }),
  SPORBAR_SEED_SUBJECTS: envInteger({ default: 100, minimum: 1, meaning: 'synthetic subjects on the first start' }),
  SPORBAR_LIVE_TRAFFIC_SECONDS: envInteger({ default: 5, minimum: 0, meaning: 'one live transaction every N seconds (`0` = off)' }),
  ...registerDirEnv,
  SPORBAR_RETENTION_SECONDS: envInteger({ default: 60, minimum: 1, meaning: 'how often the retention worker runs' }),
} as const;

export interface EmbeddedConfig {
  readonly logLevel: string;
  readonly host: string;
  readonly port: number;
  /** Absolute. */
  readonly dataDir: string;
  readonly seedTransactions: number;
  readonly seedSubjects: number;
  readonly liveEverySeconds: number;
  readonly retentionEverySeconds: number;
  /** SPORBAR_REGISTER_DIR (undefined: the packaged register). */
  readonly registerDir: string | undefined;
}

export function embeddedConfigFromEnv(env: Env = process.env): EmbeddedConfig {
  return loadConfig('sporbar (embedded)', embeddedEnv, env, (v) => ({
    logLevel: v.LOG_LEVEL,
    host: v.HOST,
    port: v.PORT,
    dataDir: resolve(v.SPORBAR_DATA_DIR),
    seedTransactions: v.SPORBAR_SEED_TRANSACTIONS,
    seedSubjects: v.SPORBAR_SEED_SUBJECTS,
    liveEverySeconds: v.SPORBAR_LIVE_TRAFFIC_SECONDS,
    retentionEverySeconds: v.SPORBAR_RETENTION_SECONDS,
    registerDir: v.SPORBAR_REGISTER_DIR === undefined ? undefined : resolve(v.SPORBAR_REGISTER_DIR),
  }));
}
