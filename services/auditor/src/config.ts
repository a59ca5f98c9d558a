import { envSecret, loadConfig, type Env } from '@sporbar/common/config';
import { chosenAdapter, databaseUrlFrom, dataDirFrom, eventStoreEnv, type EventStoreEnvOptions } from '@sporbar/event-store/config';
import type { StoreConfig } from './log/open.ts';
import { SUBJECT_MAP_KEY_MIN_BYTES } from './map/keys.ts';

/**
 * sporbar-audit's environment: the event store's variables (@sporbar/event-store) give the defaults of
 * --store, --data-dir and --database-url; with none set it reads the embedded default, ./data.
 */
const STORE: EventStoreEnvOptions = {
  adapters: ['pglite', 'postgres'],
  defaultAdapter: 'inferred',
  defaultDatabaseUrl: null,
  dataDir: {
    default: './data',
    meaning: 'the data directory the audit reads (the embedded one, or its `pglite/` folder), and looks for `checkpoint-key.pub.pem` in',
  },
};

export const auditorStoreEnv = eventStoreEnv(STORE);

export const checkpointKeyEnv = {
  SPORBAR_CHECKPOINT_PUBLIC_KEY: envSecret({ meaning: 'checkpoint public key (SPKI PEM) when `--public-key` is not given' }),
} as const;

export const subjectMapKeyEnv = {
  SPORBAR_SUBJECT_MAP_KEY: envSecret({
    bytes: { min: SUBJECT_MAP_KEY_MIN_BYTES },
    meaning: "the subject map's key (≥ 32 bytes, base64url) when `verify --subject-map-key` is not given: verify recomputes the map from the log and checks every committed root",
  }),
} as const;

/** Every variable sporbar-audit reads, for the README. */
export const auditorEnv = { ...auditorStoreEnv, ...checkpointKeyEnv, ...subjectMapKeyEnv } as const;

export interface AuditorEnvConfig {
  /** The defaults of --store, --data-dir and --database-url (the command line overrides them). */
  readonly store: StoreConfig['store'];
  readonly dataDir: string;
  readonly databaseUrl?: string;
  /** The checkpoint public key's PEM, when the environment gives one. */
  readonly checkpointPublicKey?: string;
  /** The subject map key (base64url, checked to be ≥ 32 bytes), when the environment gives one. */
  readonly subjectMapKey?: string;
}

/** Everything sporbar-audit reads from the environment, read once at start: every problem in one SPB_ERR_CONFIG. */
export function auditorConfigFromEnv(env: Env = process.env): AuditorEnvConfig {
  return loadConfig('sporbar-audit', auditorEnv, env, (v) => {
    const databaseUrl = databaseUrlFrom(v, STORE);
    const key = v.SPORBAR_CHECKPOINT_PUBLIC_KEY;
    const mapKey = v.SPORBAR_SUBJECT_MAP_KEY;
    return {
      store: chosenAdapter(v, STORE) as StoreConfig['store'],
      dataDir: dataDirFrom(v, STORE),
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(key ? { checkpointPublicKey: key } : {}),
      ...(mapKey ? { subjectMapKey: mapKey } : {}),
    };
  });
}
