import { envOneOf, envSecret, envString, loadConfig, type ConfigProblems, type Env, type EnvDeclaration } from '@sporbar/common/config';
import type { EventStoreConfig } from './create-event-store.ts';

/**
 * The event store's configuration from the environment, declared once for every program that opens
 * it (ingest, projector, auditor): SPORBAR_STORE picks the adapter, DATABASE_URL, SPORBAR_DATA_DIR and
 * EVENTSTORE_URL say where it is. A program says which adapters it runs on and its defaults.
 */
export type EventStoreAdapter = EventStoreConfig['adapter'];

export interface EventStoreEnvOptions {
  /** The adapters the program runs on. Default: all three. */
  readonly adapters?: readonly EventStoreAdapter[];
  /**
   * SPORBAR_STORE when it is unset: an adapter, or 'inferred': postgres when DATABASE_URL is set and
   * SPORBAR_DATA_DIR is not, else pglite. Default 'postgres'.
   */
  readonly defaultAdapter?: EventStoreAdapter | 'inferred';
  /** Appended to SPORBAR_STORE's meaning in the README. */
  readonly note?: string;
  /** Appended to DATABASE_URL's meaning in the README (what else the program keeps there). */
  readonly databaseUrlNote?: string;
  /** SPORBAR_DATA_DIR: its default and what it names. Default: `data/pglite`, the PGlite directory. */
  readonly dataDir?: { readonly default: string; readonly meaning: string };
  /** DATABASE_URL when unset; null: none (then SPORBAR_STORE=postgres needs it). Default: the local `sporbar` database. */
  readonly defaultDatabaseUrl?: string | null;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sporbar';
const ALL: readonly EventStoreAdapter[] = ['postgres', 'pglite', 'eventstoredb'];
const DATA_DIR = { default: 'data/pglite', meaning: 'the PGlite directory (`SPORBAR_STORE=pglite`)' };

const words = (xs: readonly string[]): string => {
  const quoted = xs.map((x) => `\`${x}\``);
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
};

/** The variables, for a program's declaration (spread it in beside the program's own). */
export function eventStoreEnv(options: EventStoreEnvOptions = {}): EnvDeclaration {
  const adapters = options.adapters ?? ALL;
  const chosen = options.defaultAdapter ?? 'postgres';
  const url = options.defaultDatabaseUrl === undefined ? DEFAULT_DATABASE_URL : options.defaultDatabaseUrl;
  const dataDir = options.dataDir ?? DATA_DIR;
  return {
    SPORBAR_STORE: envOneOf(adapters, {
      meaning: `the event store: ${words(adapters)}${options.note ? ` (${options.note})` : ''}`,
      defaultDoc: chosen === 'inferred' ? '`postgres` when only `DATABASE_URL` is set, else `pglite`' : `\`${chosen}\``,
    }),
    ...(adapters.includes('postgres') ? { DATABASE_URL: envString({ redact: true, defaultDoc: url === null ? '—' : `\`${url}\``, meaning: `PostgreSQL connection string of the event store${options.databaseUrlNote ? ` ${options.databaseUrlNote}` : ''}` }) } : {}),
    ...(adapters.includes('pglite') ? { SPORBAR_DATA_DIR: envString({ defaultDoc: `\`${dataDir.default}\``, meaning: dataDir.meaning }) } : {}),
    ...(adapters.includes('eventstoredb') ? { EVENTSTORE_URL: envSecret({ meaning: 'EventStoreDB connection string (`esdb://…`), required with `SPORBAR_STORE=eventstoredb`' }) } : {}),
  };
}

type Values = Readonly<Record<string, unknown>>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The adapter SPORBAR_STORE (or the program's default) picks, from checked values of eventStoreEnv(). */
export function chosenAdapter(values: Values, options: EventStoreEnvOptions = {}): EventStoreAdapter {
  const set = str(values['SPORBAR_STORE']) as EventStoreAdapter | undefined;
  if (set) return set;
  const chosen = options.defaultAdapter ?? 'postgres';
  if (chosen !== 'inferred') return chosen;
  return values['DATABASE_URL'] !== undefined && values['SPORBAR_DATA_DIR'] === undefined ? 'postgres' : 'pglite';
}

/** SPORBAR_DATA_DIR, or the program's default. */
export const dataDirFrom = (values: Values, options: EventStoreEnvOptions = {}): string => str(values['SPORBAR_DATA_DIR']) ?? (options.dataDir ?? DATA_DIR).default;

/** DATABASE_URL, or the program's default (undefined when it has none). */
export function databaseUrlFrom(values: Values, options: EventStoreEnvOptions = {}): string | undefined {
  return str(values['DATABASE_URL']) ?? (options.defaultDatabaseUrl === undefined ? DEFAULT_DATABASE_URL : (options.defaultDatabaseUrl ?? undefined));
}

/** The EventStoreConfig for createEventStore(), from checked values of eventStoreEnv(); what is missing goes to `problems`. */
export function eventStoreConfigFrom(values: Values, problems: ConfigProblems, options: EventStoreEnvOptions = {}): EventStoreConfig {
  const adapter = chosenAdapter(values, options);
  if (adapter === 'pglite') return { adapter, dataDir: dataDirFrom(values, options) };
  if (adapter === 'postgres') {
    const connectionString = databaseUrlFrom(values, options);
    if (connectionString === undefined) problems.add('DATABASE_URL', 'is required with SPORBAR_STORE=postgres');
    return { adapter, connectionString: connectionString ?? '' };
  }
  const connectionString = str(values['EVENTSTORE_URL']);
  if (connectionString === undefined) problems.add('EVENTSTORE_URL', 'is required with SPORBAR_STORE=eventstoredb (or EVENTSTORE_URL_FILE)');
  return { adapter, connectionString: connectionString ?? '' };
}

/** The event store's configuration alone: every problem in one SPB_ERR_CONFIG. */
export function eventStoreConfigFromEnv(env: Env, options: EventStoreEnvOptions = {}): EventStoreConfig {
  return loadConfig('the event store', eventStoreEnv(options), env, (values, problems) => eventStoreConfigFrom(values, problems, options));
}
