import { envInteger, envString, loadConfig, logLevelEnv, registerDirEnv, type Env } from '@sporbar/common/config';
import { databaseUrlFrom, eventStoreConfigFrom, eventStoreEnv, type EventStoreConfig, type EventStoreEnvOptions } from '@sporbar/event-store';

/** The projector reads PostgreSQL or EventStoreDB; the embedded default (PGlite) runs its projections in process. */
const STORE: EventStoreEnvOptions = { adapters: ['postgres', 'eventstoredb'], note: 'the embedded default runs its projections in process' };

/** `sporbar-projections run` and `rebuild`. */
export const projectorEnv = {
  ...logLevelEnv,
  ...eventStoreEnv(STORE),
  ...registerDirEnv,
  READ_MODELS_DATABASE_URL: envString({ redact: true, defaultDoc: '`DATABASE_URL`', meaning: 'where the read models live' }),
  // 9465: next to the ingest's 9464, so both run on one host with their defaults.
  METRICS_HOST: envString({ default: '127.0.0.1', meaning: 'where `/metrics`, `/health` and `/ready` listen (`0.0.0.0` for a scraper on another host)' }),
  METRICS_PORT: envInteger({ default: 9465, minimum: 0, maximum: 65535, meaning: 'Prometheus `/metrics` (quarantined events, position, checkpoint lag), `/health` and `/ready` of `run`; 0 picks a free port' }),
} as const;

export interface ProjectorConfig {
  readonly logLevel: string;
  /** SPORBAR_REGISTER_DIR (undefined: the packaged register). */
  readonly registerDir: string | undefined;
  readonly store: EventStoreConfig;
  readonly readModelsDatabaseUrl: string;
  readonly metricsHost: string;
  readonly metricsPort: number;
}

export function projectorConfigFromEnv(env: Env = process.env): ProjectorConfig {
  return loadConfig('sporbar-projections', projectorEnv, env, (v, problems) => ({
    logLevel: v.LOG_LEVEL,
    registerDir: v.SPORBAR_REGISTER_DIR,
    store: eventStoreConfigFrom(v, problems, STORE),
    readModelsDatabaseUrl: v.READ_MODELS_DATABASE_URL ?? databaseUrlFrom(v, STORE)!,
    metricsHost: v.METRICS_HOST,
    metricsPort: v.METRICS_PORT,
  }));
}
