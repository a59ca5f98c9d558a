import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import envSchema from 'env-schema';
import { SporbarError, isSporbarError } from './errors.ts';

/**
 * Configuration from the environment, declared once per service: each variable's name, type,
 * default, whether it is required or a secret, and a one-line meaning. `loadConfig` checks the whole
 * declaration at once with env-schema (JSON Schema on ajv, every error collected) and refuses with a
 * single SPB_ERR_CONFIG that lists every bad or missing variable; `configTableRows` turns the same
 * declarations into the README's configuration table (tools/gen-config-doc.ts).
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** One declared environment variable whose value, once read and checked, is a T. */
export interface Variable<T> {
  /** JSON Schema of the value (env-schema coerces the string to it: `'6'` → 6). */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly required: boolean;
  /** May come from the file named by NAME_FILE (mounted secrets); its value never appears in a message. */
  readonly secret: boolean;
  /** Its value never appears in a message (a connection string with a password, say). */
  readonly redact: boolean;
  /** One line for the README. */
  readonly meaning: string;
  /** The README's default column (Markdown); undefined: none. */
  readonly defaultDoc: string | undefined;
  /** From the schema-checked value to the one the service uses (a list's entries trimmed). */
  parse(value: unknown): T;
  /** A check the schema cannot say (a key's byte length, a PEM that parses): throws a SporbarError. */
  check?(value: NonNullable<T>): void;
  /** Only for typing: the value's type. */
  readonly _type?: T;
}

export type EnvDeclaration = Readonly<Record<string, Variable<unknown>>>;
export type EnvValues<D extends EnvDeclaration> = { readonly [K in keyof D]: D[K] extends Variable<infer T> ? T : never };

interface Common<T> {
  readonly meaning: string;
  /** README text for the default when it is not the literal default (e.g. `<topic>.dlq`). */
  readonly defaultDoc?: string;
  readonly redact?: boolean;
  readonly check?: (value: NonNullable<T>) => void;
}

const code = (value: unknown): string => `\`${String(value)}\``;

function variable<T>(
  schema: Record<string, unknown>,
  o: Common<T> & { required?: boolean; secret?: boolean },
  parse: (value: unknown) => T = (value) => value as T,
): Variable<T> {
  const required = o.required === true;
  const defaultDoc = o.defaultDoc ?? ('default' in schema ? code(schema['default']) : required ? '— (required)' : '—');
  return { schema, required, secret: o.secret === true, redact: o.redact === true || o.secret === true, meaning: o.meaning, defaultDoc, parse, ...(o.check ? { check: o.check } : {}) };
}

type StringOptions = Common<string> & { readonly pattern?: string; readonly minLength?: number };
const stringSchema = (o: StringOptions & { default?: string }) => ({
  type: 'string',
  ...(o.default !== undefined ? { default: o.default } : {}),
  ...(o.pattern !== undefined ? { pattern: o.pattern } : {}),
  ...(o.minLength !== undefined ? { minLength: o.minLength } : {}),
});

/** A string; without a default and not required it may be undefined. */
export function envString(o: StringOptions & { readonly default: string }): Variable<string>;
export function envString(o: StringOptions & { readonly required: true }): Variable<string>;
export function envString(o: StringOptions): Variable<string | undefined>;
export function envString(o: StringOptions & { default?: string; required?: boolean }): Variable<string | undefined> {
  return variable(stringSchema(o), o);
}

type IntegerOptions = Common<number> & { readonly minimum?: number; readonly maximum?: number };
/** An integer (`'6'` → 6; `'six'` and `'1.5'` are refused), optionally within [minimum, maximum]. */
export function envInteger(o: IntegerOptions & { readonly default: number }): Variable<number>;
export function envInteger(o: IntegerOptions): Variable<number | undefined>;
export function envInteger(o: IntegerOptions & { default?: number }): Variable<number | undefined> {
  return variable(
    {
      type: 'integer',
      ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.minimum !== undefined ? { minimum: o.minimum } : {}),
      ...(o.maximum !== undefined ? { maximum: o.maximum } : {}),
    },
    o,
  );
}

/** One of a few words. */
export function envOneOf<const V extends string>(values: readonly V[], o: Common<V> & { readonly default: V }): Variable<V>;
export function envOneOf<const V extends string>(values: readonly V[], o: Common<V>): Variable<V | undefined>;
export function envOneOf<const V extends string>(values: readonly V[], o: Common<V> & { default?: V }): Variable<V | undefined> {
  return variable({ type: 'string', enum: [...values], ...(o.default !== undefined ? { default: o.default } : {}) }, o);
}

/** A comma-separated list (env-schema's `separator`), each entry trimmed. */
export function envList(o: Common<string[]> & { readonly default: string }): Variable<string[]> {
  return variable({ type: 'string', separator: ',', default: o.default }, o, (value) => (value as string[]).map((s) => s.trim()));
}

type SecretOptions = Common<string> & {
  /** The value is base64url of exactly this many bytes, or of at least `min` bytes. */
  readonly bytes?: number | { readonly min: number };
};

/**
 * A secret: from the variable NAME or from the file named by NAME_FILE (the file wins), trimmed;
 * blank counts as unset. Its value never appears in a message.
 */
export function envSecret(o: SecretOptions & { readonly required: true }): Variable<string>;
export function envSecret(o: SecretOptions): Variable<string | undefined>;
export function envSecret(o: SecretOptions & { required?: boolean }): Variable<string | undefined> {
  const bytes = o.bytes;
  const own = o.check;
  const check =
    bytes === undefined && !own
      ? undefined
      : (value: string) => {
          if (bytes !== undefined) checkBase64urlBytes(value, bytes);
          own?.(value);
        };
  return variable({ type: 'string' }, { ...o, secret: true, ...(check ? { check } : {}) });
}

/**
 * base64url (Node's decoding, as the key code reads it) of `bytes` bytes, or of at least `bytes.min`,
 * else SPB_ERR_CONFIG; never echoes the value.
 */
export function checkBase64urlBytes(value: string, bytes: number | { readonly min: number }): void {
  const n = Buffer.from(value, 'base64url').length;
  if (typeof bytes === 'number' ? n === bytes : n >= bytes.min) return;
  const wanted = typeof bytes === 'number' ? `${bytes} bytes` : `at least ${bytes.min} bytes`;
  throw new SporbarError('SPB_ERR_CONFIG', `must be ${wanted} (base64url), got ${n} byte${n === 1 ? '' : 's'}`);
}

/** LOG_LEVEL as every Sporbar service reads it (pino's levels). */
export const logLevelEnv = {
  LOG_LEVEL: envOneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', meaning: 'pino log level' }),
} as const;

/** The processing register (every program that classifies, projects or reports; loaded with `loadRegisterSource` of @sporbar/schemas). */
export const registerDirEnv = {
  SPORBAR_REGISTER_DIR: envString({
    defaultDoc: 'the packaged register',
    meaning: 'a register directory (`shared.yaml`, `<notice>/<version>.yaml`): disclosures are judged by the notice version in force when they happened; the activity ids of the producer registry are checked against every notice version in it; an invalid one stops the start (SPB_ERR_CONFIG listing the problems)',
  }),
} as const;

// ---------------------------------------------------------------------------------------------------
// Kafka clients

/**
 * How every Sporbar program that talks to Kafka reaches it: the same contract as @sporbar/kafka-infra's
 * (KAFKA_BROKERS alone is plaintext; KAFKA_CA_FILE or KAFKA_SSL=true is TLS; SCRAM credentials need TLS).
 * Spread it into a program's declaration; `kafkaClientOptionsFrom` turns its values into kafkajs options.
 */
export const kafkaClientEnv = {
  KAFKA_BROKERS: envList({ default: '127.0.0.1:9092', meaning: 'comma-separated bootstrap brokers' }),
  KAFKA_CA_FILE: envString({ minLength: 1, meaning: "PEM file of the CA that signed the brokers' certificates; implies TLS" }),
  KAFKA_SSL: envOneOf(['true', 'false'], { default: 'false', meaning: "`true`: TLS with the system CAs (implied by `KAFKA_CA_FILE`)" }),
  KAFKA_SASL_MECHANISM: envOneOf(['scram-sha-512', 'SCRAM-SHA-512'], { default: 'scram-sha-512', meaning: 'SASL mechanism (SCRAM-SHA-512 is the only one)' }),
  KAFKA_SASL_USERNAME: envString({ minLength: 1, meaning: "SCRAM user of this program's Kafka principal; refused without TLS" }),
  KAFKA_SASL_PASSWORD: envSecret({ meaning: "that principal's SCRAM password" }),
} as const;

/** kafkajs' `{ brokers, ssl, sasl }` as plain data (this package does not import kafkajs); spread it into `new Kafka({ clientId, ...options })`. */
export interface KafkaClientOptions {
  readonly brokers: string[];
  /** `true`: TLS with Node's system CAs; `{ ca }`: trust only these PEM CAs. Absent: plaintext. */
  readonly ssl?: true | { readonly ca: string[] };
  readonly sasl?: { readonly mechanism: 'scram-sha-512'; readonly username: string; readonly password: string };
}

type KafkaClientValues = EnvValues<typeof kafkaClientEnv>;

/**
 * The kafkajs options the KAFKA_* values describe (the CA file is read here). Recorded as problems
 * (so loadConfig refuses with SPB_ERR_CONFIG): half a SCRAM pair, credentials without TLS (they would
 * cross the network in clear), a CA file that cannot be read or holds no PEM certificate.
 */
export function kafkaClientOptionsFrom(
  v: Pick<KafkaClientValues, keyof KafkaClientValues>,
  problems: ConfigProblems,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): KafkaClientOptions {
  let ssl: KafkaClientOptions['ssl'];
  if (v.KAFKA_CA_FILE !== undefined) {
    const file = v.KAFKA_CA_FILE;
    const pem = problems.check('KAFKA_CA_FILE', () => {
      let text: string;
      try {
        text = readFile(file);
      } catch (err) {
        throw new SporbarError('SPB_ERR_CONFIG', `cannot read ${shown(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      try {
        new X509Certificate(text);
      } catch {
        throw new SporbarError('SPB_ERR_CONFIG', `${shown(file)} holds no PEM certificate`);
      }
      return text;
    });
    if (pem !== undefined) ssl = { ca: [pem] };
  } else if (v.KAFKA_SSL === 'true') ssl = true;
  const tls = v.KAFKA_CA_FILE !== undefined || v.KAFKA_SSL === 'true';

  let sasl: KafkaClientOptions['sasl'];
  const username = v.KAFKA_SASL_USERNAME;
  const password = v.KAFKA_SASL_PASSWORD;
  if (username !== undefined || password !== undefined) {
    if (username === undefined) problems.add('KAFKA_SASL_USERNAME', 'is required when KAFKA_SASL_PASSWORD (or _FILE) is set');
    else if (password === undefined) problems.add('KAFKA_SASL_PASSWORD', 'is required (or KAFKA_SASL_PASSWORD_FILE) when KAFKA_SASL_USERNAME is set');
    else if (!tls) problems.add('KAFKA_SASL_USERNAME', 'SCRAM credentials without TLS are refused (they would cross the network in clear): set KAFKA_CA_FILE or KAFKA_SSL=true');
    else sasl = { mechanism: 'scram-sha-512', username, password };
  }
  return { brokers: [...v.KAFKA_BROKERS], ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// Collecting problems

export interface ConfigProblem {
  readonly variable: string;
  readonly problem: string;
}

export interface ConfigProblems {
  /** Records a problem of a variable. */
  add(variable: string, problem: string): void;
  /**
   * Runs `fn`; a SporbarError it throws is recorded as a problem of `variable`. On such a failure the
   * result is `undefined` cast to T: it never escapes, since loadConfig throws once `build` returns
   * with a problem recorded.
   */
  check<T>(variable: string, fn: () => T): T;
  readonly list: readonly ConfigProblem[];
}

export function createConfigProblems(): ConfigProblems {
  const list: ConfigProblem[] = [];
  return {
    list,
    add: (variable, problem) => void list.push({ variable, problem }),
    check<T>(variable: string, fn: () => T): T {
      try {
        return fn();
      } catch (err) {
        if (!isSporbarError(err)) throw err;
        list.push({ variable, problem: err.message });
        return undefined as T;
      }
    },
  };
}

/** One SPB_ERR_CONFIG naming every problem, one per line (`details.problems` holds them too). */
export function configError(service: string, problems: readonly ConfigProblem[]): SporbarError {
  const width = Math.min(40, Math.max(...problems.map((p) => p.variable.length)));
  const lines = problems.map((p) => `  ${p.variable.padEnd(width)}  ${p.problem}`);
  const count = problems.length === 1 ? '1 configuration problem' : `${problems.length} configuration problems`;
  return new SporbarError('SPB_ERR_CONFIG', `${service} cannot start: ${count} (see README, Configuration):\n${lines.join('\n')}`, {
    details: { service, problems: problems.map((p) => ({ ...p })) },
  });
}

/** What a process prints for a configuration error: the code and the list, no stack trace. */
export const formatConfigError = (err: SporbarError): string => `${err.code}: ${err.message}\n`;

// ---------------------------------------------------------------------------------------------------
// Reading

interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

const shown = (value: unknown): string => {
  const s = String(value);
  return s.length > 60 ? `'${s.slice(0, 57)}...'` : `'${s}'`;
};

function describeError(error: AjvError, v: Variable<unknown>, value: unknown): string {
  const got = v.redact || value === undefined ? '' : `, got ${shown(value)}`;
  const p = error.params;
  switch (error.keyword) {
    case 'type':
      return `must be ${p['type'] === 'integer' ? 'an integer' : `a ${String(p['type'])}`}${got}`;
    case 'enum':
      return `must be one of ${(p['allowedValues'] as unknown[]).join(', ')}${got}`;
    case 'minimum':
      return `must be ≥ ${String(p['limit'])}${got}`;
    case 'maximum':
      return `must be ≤ ${String(p['limit'])}${got}`;
    case 'pattern':
      return `must match ${String(p['pattern'])}${got}`;
    case 'minLength':
      return `must be at least ${String(p['limit'])} characters`;
    default:
      return `${error.message ?? error.keyword}${got}`;
  }
}

/** Problems are listed in the order the variables are declared (others last). */
const rank = (order: readonly string[], name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);

function missing(name: string, v: Variable<unknown>): string {
  return `is required${v.secret ? ` (or ${name}_FILE)` : ''}: ${v.meaning}`;
}

/**
 * Reads and checks every variable of `declaration` from `env`, then `build`s the service's
 * configuration from the checked values (the place for checks across variables: record them in
 * `problems`). Any problem in either step: one SPB_ERR_CONFIG listing them all. `build` runs only
 * once every variable is valid on its own.
 */
export function loadConfig<D extends EnvDeclaration, C = EnvValues<D>>(
  service: string,
  declaration: D,
  env: Env,
  build?: (values: EnvValues<D>, problems: ConfigProblems) => C,
): C {
  const problems = createConfigProblems();
  const bad = new Set<string>();
  const raw: Record<string, string> = {};
  for (const [name, v] of Object.entries(declaration)) {
    const file = v.secret ? env[`${name}_FILE`] : undefined;
    let value = env[name];
    if (file) {
      try {
        value = readFileSync(file, 'utf8');
      } catch (err) {
        problems.add(name, `${name}_FILE: cannot read ${shown(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        bad.add(name);
        continue;
      }
    }
    if (v.secret) value = value?.trim() || undefined;
    if (value !== undefined) raw[name] = value;
  }

  const validate = (names: readonly string[]): Record<string, unknown> => {
    const properties = Object.fromEntries(names.map((n) => [n, { ...declaration[n]!.schema }]));
    const required = names.filter((n) => declaration[n]!.required);
    const data = Object.fromEntries(names.filter((n) => n in raw).map((n) => [n, raw[n]]));
    // env: false — the env is the one given, not process.env; dotenv: false — no .env file.
    // env-schema's own ajv collects every error (allErrors) and coerces the strings to the schema's types.
    return envSchema({ schema: { type: 'object', required, properties }, data, env: false, dotenv: false });
  };
  const good = () => Object.keys(declaration).filter((n) => !bad.has(n));
  let values: Record<string, unknown>;
  try {
    values = validate(good());
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!errors) throw err;
    for (const e of errors) {
      const name = e.keyword === 'required' ? String(e.params['missingProperty']) : e.instancePath.split('/')[1]!;
      const v = declaration[name]!;
      if (bad.has(name)) continue;
      problems.add(name, e.keyword === 'required' ? missing(name, v) : describeError(e, v, raw[name]));
      bad.add(name);
    }
    values = validate(good()); // the valid ones, coerced and defaulted, for the checks below
  }
  for (const name of good()) {
    const v = declaration[name]!;
    if (values[name] === undefined) continue;
    values[name] = v.parse(values[name]);
    if (v.check) problems.check(name, () => v.check!(values[name] as never));
  }
  const order = Object.keys(declaration);
  const refuse = () => configError(service, [...problems.list].sort((a, b) => rank(order, a.variable) - rank(order, b.variable)));
  if (problems.list.length > 0) throw refuse();
  const config = build ? build(values as EnvValues<D>, problems) : (values as C);
  if (problems.list.length > 0) throw refuse();
  return config;
}

/**
 * For a service's start: runs `load`; an SPB_ERR_CONFIG is printed as the list it holds (no stack
 * trace) and the process exits with code 1. Any other error is thrown on.
 */
export function configOrExit<C>(
  load: () => C,
  io: { readonly write: (text: string) => void; readonly exit: (code: number) => never } = {
    write: (text) => process.stderr.write(text),
    exit: (c) => process.exit(c),
  },
): C {
  try {
    return load();
  } catch (err) {
    if (!isSporbarError(err, 'SPB_ERR_CONFIG')) throw err;
    io.write(formatConfigError(err));
    return io.exit(1);
  }
}

/**
 * A secret from the environment variable NAME, or from the file NAME_FILE (mounted secrets), outside
 * a declaration. Missing: SPB_ERR_CONFIG.
 */
export function readSecret(env: Env, name: string): string {
  const file = env[`${name}_FILE`];
  const value = file ? readFileSync(file, 'utf8').trim() : env[name]?.trim();
  if (!value) throw new SporbarError('SPB_ERR_CONFIG', `${name} (or ${name}_FILE) must be set`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Documenting

/** A declaration and the program that reads it, for the README table. */
export interface ConfigDocSource {
  readonly usedBy: string;
  readonly declaration: EnvDeclaration;
}

/**
 * The README's configuration table (header included): one row per variable, in the order first
 * declared; programs declaring a variable with the same default and meaning share its row, the
 * others get a row of their own.
 */
export function configTableRows(sources: readonly ConfigDocSource[]): string[] {
  const rows = new Map<string, { name: string; v: Variable<unknown>; usedBy: string[] }>();
  for (const { usedBy, declaration } of sources) {
    for (const [name, v] of Object.entries(declaration)) {
      const key = JSON.stringify([name, v.secret, v.defaultDoc, v.meaning]);
      const row = rows.get(key);
      if (!row) rows.set(key, { name, v, usedBy: [usedBy] });
      else if (!row.usedBy.includes(usedBy)) row.usedBy.push(usedBy);
    }
  }
  // Rows of the same variable stay together.
  const ordered = [...rows.values()].sort((a, b) => {
    const first = (name: string) => [...rows.values()].findIndex((r) => r.name === name);
    return first(a.name) - first(b.name);
  });
  return [
    '| variable | used by | default | meaning |',
    '| --- | --- | --- | --- |',
    ...ordered.map(({ name, v, usedBy }) => `| \`${name}${v.secret ? '[_FILE]' : ''}\` | ${usedBy.join(', ')} | ${v.defaultDoc} | ${v.meaning} |`),
  ];
}
