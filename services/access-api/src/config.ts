import { createPublicKey } from 'node:crypto';
import { configError, envInteger, envOneOf, envSecret, envString, kafkaClientEnv, kafkaClientOptionsFrom, loadConfig, logLevelEnv, registerDirEnv, type ConfigProblem, type Env, type KafkaClientOptions } from '@sporbar/common/config';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { MASTER_KEY_ID_PATTERN, parsePreviousMasterKeys, createPseudonymiser, parseMasterKey, parsePreviousPseudonymKeys, parseProducerKey, type MasterKey, type ProducerKey } from '@sporbar/key-store';
import { loadPolicyFile, type LoadedPolicy } from '@sporbar/auditor';
import { eventStoreConfigFrom, type EventStoreConfig } from '@sporbar/event-store';

/** The access API's principal in the producer registry: it may send ReportViewed only. */
export const ACCESS_API_PRODUCER_ID = 'sporbar-access-api';
import { isDevelopmentKey } from './auth.ts';
import { CLAIM_PATH, DEFAULT_OIDC_ROLE_MAP, parseRoleMap } from './oidc-claims.ts';
import type { Role } from './auth.ts';

const pemPublicKey = (pem: string): void => {
  try {
    createPublicKey(pem);
  } catch {
    throw new SporbarError('SPB_ERR_CONFIG', 'is not a PEM public key (SPKI, ES256)');
  }
};

/** The access API as a service of its own (main.ts): read models in PostgreSQL, ReportViewed events to Kafka. */
export const accessApiEnv = {
  ...logLevelEnv,
  HOST: envString({ default: '127.0.0.1', meaning: 'where the API listens' }),
  PORT: envInteger({ default: 3000, minimum: 0, maximum: 65535, meaning: 'where the API listens' }),
  ...registerDirEnv,
  SPORBAR_ENV: envString({ default: 'production', meaning: 'only exactly `development` accepts the development JWT key; any other value (`Production`, `prod`, `dev`, empty) is production' }),
  DATABASE_URL: envString({
    default: 'postgres://postgres@127.0.0.1:5432/sporbar',
    redact: true,
    meaning: 'PostgreSQL of the read models and the subject key table',
  }),
  PG_POOL_SIZE: envInteger({ default: 10, minimum: 1, meaning: 'PostgreSQL connections for the read models' }),
  ...kafkaClientEnv,
  SPORBAR_TOPIC: envString({ default: 'sporbar.disclosures', meaning: 'the disclosures topic' }),
  SPORBAR_SPOOL_DIR: envString({ default: 'data/access-api-spool', meaning: "the producer's durable spool (fsync'd, bounded) while Kafka is away" }),
  SPORBAR_VIEWS_LINGER_MS: envInteger({ default: 20, minimum: 0, meaning: 'how long ReportViewed events wait to share one Kafka produce request' }),
  SPORBAR_SEAL_PUBLIC_KEY: envSecret({ required: true, bytes: 32, meaning: 'base64url X25519 public key that seals subjects (shared with every producer)' }),
  SPORBAR_ROUTING_SECRET: envSecret({ required: true, bytes: { min: 32 }, meaning: 'partition-key secret (≥ 32 bytes, base64url) shared with every producer' }),
  SPORBAR_PSEUDONYM_KEY: envSecret({ required: true, bytes: { min: 32 }, meaning: 'HMAC key (≥ 32 bytes, base64url) of the pseudonyms' }),
  SPORBAR_PSEUDONYM_KEY_ID: envString({ default: 'k1', pattern: '^[a-z0-9]{1,8}$', meaning: "the pseudonym key's id (1-8 of a-z 0-9)" }),
  SPORBAR_PRODUCER_KEY: envSecret({
    required: true,
    meaning: "the access API's producer key `<hmac-sha256|ed25519>:<keyId>:<base64url secret>` (principal `sporbar-access-api` in the producer registry): authenticates its ReportViewed events",
    check: (value) => void parseProducerKey(ACCESS_API_PRODUCER_ID, value),
  }),
  SPORBAR_PSEUDONYM_PREVIOUS_KEYS: envSecret({
    meaning: 'rotated-out pseudonym keys `id:secret,…`, still used for look-ups',
    check: (value) => {
      const [first, ...rest] = parsePreviousPseudonymKeys(value);
      if (first) createPseudonymiser(first, rest);
    },
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
  SPORBAR_JWT_PUBLIC_KEY: envSecret({
    check: pemPublicKey,
    defaultDoc: '— (this or `SPORBAR_OIDC_ISSUER` required)',
    meaning: 'PEM public key (ES256) that signs access tokens (the static issuer); this, `SPORBAR_OIDC_ISSUER` or both',
  }),
  SPORBAR_OIDC_ISSUER: envString({
    pattern: '^https?://[^\\s]+$',
    defaultDoc: '— (this or `SPORBAR_JWT_PUBLIC_KEY` required)',
    meaning: "an OpenID Connect issuer, its `iss` exactly (https in production): bearer tokens whose `iss` is it are checked against its JWKS (from `<issuer>/.well-known/openid-configuration`, fetched again for an unknown `kid`); with `SPORBAR_OIDC_CLIENT_ID` citizens sign in through it in the browser",
  }),
  SPORBAR_OIDC_AUDIENCE: envString({ default: 'sporbar-access-api', meaning: "a value the issuer's access tokens' `aud` must contain" }),
  SPORBAR_OIDC_CPR_CLAIM: envString({ default: 'cpr', pattern: CLAIM_PATH.source, meaning: "the claim (a dotted path allowed) holding a citizen's CPR number: pseudonymised at once, never stored, logged or put in a cookie" }),
  SPORBAR_OIDC_ROLES_CLAIM: envString({ default: 'realm_access.roles', pattern: CLAIM_PATH.source, meaning: "the claim (a dotted path) holding the issuer's roles (a list or one string)" }),
  SPORBAR_OIDC_ROLE_MAP: envString({
    default: DEFAULT_OIDC_ROLE_MAP,
    meaning: "`issuerRole=sporbarRole,…`: a token must map to exactly one Sporbar role (citizen, caseworker, dpo, auditor); none or several is a 401",
    check: (value) => void parseRoleMap(value),
  }),
  SPORBAR_OIDC_CLIENT_ID: envString({ defaultDoc: '— (no browser sign-in through the issuer)', meaning: "the access API's confidential client at the issuer, for the citizens' browser sign-in (authorization code + PKCE); needs `SPORBAR_OIDC_CLIENT_SECRET` and `SPORBAR_PUBLIC_URL`" }),
  SPORBAR_OIDC_CLIENT_SECRET: envSecret({ meaning: "that client's secret" }),
  SPORBAR_OIDC_DISPLAY_NAME: envString({ default: 'MitID', meaning: 'what the sign-in page calls the issuer ("Log ind med …" / "Sign in with …")' }),
  SPORBAR_PUBLIC_URL: envString({
    pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
    meaning: "the URL citizens reach the API at (https in production; http://127.0.0.1:… in development): the sign-in's redirect URI is it + `/auth/callback`, the issuer's logout returns to it + `/`",
  }),
  RATE_LIMIT_PER_MINUTE: envInteger({ default: 600, minimum: 1, meaning: 'requests per client address' }),
  SPORBAR_SELF_VIEWS: envOneOf(['async', 'sync'], { default: 'async', meaning: "`sync` awaits citizens' own views too (see Access API)" }),
  TOKEN_CACHE_SIZE: envInteger({ default: 10_000, minimum: 0, meaning: 'verified tokens cached until their expiry (`0` = off)' }),
  SPORBAR_LOG_URL: envString({
    pattern: '^https?://',
    defaultDoc: '— (required unless `SPORBAR_ENV=development`)',
    meaning: "the log service (`sporbar-log`): the report's integrity section and `/v1/log/*` come from it; required unless SPORBAR_ENV=development",
  }),
  SPORBAR_LOG_TIMEOUT_MS: envInteger({ default: 2000, minimum: 100, maximum: 60_000, meaning: 'how long a request to the log service may take; then the report says integrity `unavailable`' }),
  SPORBAR_WITNESS_POLICY_FILE: envString({
    defaultDoc: '— (required unless `SPORBAR_ENV=development`)',
    meaning: "the witness policy, a C2SP tlog-policy file (the log's key, the witnesses' keys, the quorum): the report and the citizen page judge the log's checkpoints by it; served at `/v1/log/policy`",
  }),
  SPORBAR_SUBJECT_MAP_KEY: envSecret({
    bytes: { min: 32 },
    defaultDoc: '— (required unless `SPORBAR_ENV=development`)',
    meaning: "the subject map's key, the log service's own (`subject-map.key`): with `SPORBAR_LOG_URL` and `SPORBAR_STORE`, citizens get the proof that their report leaves nothing out (`/v1/me/subject-map`)",
  }),
  SPORBAR_STORE: envOneOf(['postgres'], {
    defaultDoc: '— (no proof downloads, no entry bundles)',
    meaning: "the event store the citizens' proof downloads (`/v1/me/disclosures/:eventId/proof`) and the auditors' C2SP entry bundles (`/v1/audit/tile/entries/*`, with `SPORBAR_LOG_URL`) read the stored events' bytes from: `postgres`, in `EVENT_STORE_DATABASE_URL`; unset, those answer 503 / 404",
  }),
  EVENT_STORE_DATABASE_URL: envString({ redact: true, defaultDoc: '`DATABASE_URL`', meaning: 'PostgreSQL connection string of the event store (`SPORBAR_STORE=postgres`), when it is not the read models\' database' }),
  TOKEN_MAX_LIFETIME_SECONDS: envInteger({ default: 3600, minimum: 1, maximum: 86_400, meaning: 'longest accepted access-token lifetime (`exp - iat`, and `exp` from now); longer ones are refused 401' }),
} as const;

export interface AccessApiConfig {
  readonly logLevel: string;
  /** SPORBAR_REGISTER_DIR (undefined: the packaged register). */
  readonly registerDir: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Everything but SPORBAR_ENV=development exactly (fail closed): the development JWT key is refused. */
  readonly production: boolean;
  readonly databaseUrl: string;
  readonly poolSize: number;
  /** kafkajs' brokers, TLS and SASL (KAFKA_*) of the ReportViewed producer. */
  readonly kafka: KafkaClientOptions;
  readonly topic: string;
  readonly spoolDir: string;
  readonly lingerMs: number;
  readonly sealPublicKey: string;
  readonly routingSecret: string;
  readonly pseudonymKey: { readonly id: string; readonly secret: string };
  /** After a rotation: the old keys, so old pseudonyms stay findable. */
  readonly previousPseudonymKeys: ReadonlyArray<{ readonly id: string; readonly secret: string }>;
  readonly masterKey: MasterKey;
  /** Masters being rotated out (SPORBAR_MASTER_PREVIOUS_KEYS): they still unwrap, never wrap. */
  readonly previousMasterKeys: readonly MasterKey[];
  /** Authenticates the ReportViewed events it sends (principal sporbar-access-api). */
  readonly producerKey: ProducerKey;
  /** The static issuer's key (SPORBAR_JWT_PUBLIC_KEY), when one is configured. */
  readonly jwtPublicKey: string | undefined;
  /** The OIDC issuer (SPORBAR_OIDC_*), when one is configured. */
  readonly oidc: OidcConfig | undefined;
  /** SPORBAR_PUBLIC_URL without a trailing slash. */
  readonly publicUrl: string | undefined;
  readonly rateLimitPerMinute: number;
  readonly selfViews: 'async' | 'sync';
  readonly tokenCacheSize: number;
  readonly tokenMaxLifetimeSeconds: number;
  /** The log service's URL (undefined only in development: then the API has no log). */
  readonly logUrl: string | undefined;
  /** The event store's PostgreSQL, for auditors' entry bundles (undefined: not served). */
  readonly logTimeoutMs: number;
  /** The witness policy (SPORBAR_WITNESS_POLICY_FILE), when one is configured. */
  readonly witnessPolicy: LoadedPolicy | undefined;
  /** The event store the proof downloads and the entry bundles read (SPORBAR_STORE), when one is configured. */
  readonly eventStore: EventStoreConfig | undefined;
  /** SPORBAR_SUBJECT_MAP_KEY (undefined only in development). */
  readonly subjectMapKey: Buffer | undefined;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly cprClaim: string;
  readonly rolesClaim: string;
  readonly roleMap: ReadonlyMap<string, Role>;
  readonly displayName: string;
  /** The browser sign-in's confidential client, when SPORBAR_OIDC_CLIENT_ID is set. */
  readonly client: { readonly id: string; readonly secret: string } | undefined;
}

/**
 * The sign-in settings' problems, all of them (pure): a token issuer is required; the browser
 * sign-in needs its client's secret and the public URL; production needs https.
 */
export function signInProblems(v: {
  production: boolean;
  jwtPublicKey: string | undefined;
  issuer: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  publicUrl: string | undefined;
}): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (v.jwtPublicKey === undefined && v.issuer === undefined) out.push(['SPORBAR_JWT_PUBLIC_KEY', 'or SPORBAR_OIDC_ISSUER is required (or both): the access API needs a token issuer']);
  if (v.issuer !== undefined && v.production && !v.issuer.startsWith('https://')) out.push(['SPORBAR_OIDC_ISSUER', 'must be https unless SPORBAR_ENV=development']);
  if (v.publicUrl !== undefined && v.production && !v.publicUrl.startsWith('https://')) out.push(['SPORBAR_PUBLIC_URL', 'must be https unless SPORBAR_ENV=development (the session cookie is Secure)']);
  if (v.clientId !== undefined) {
    if (v.issuer === undefined) out.push(['SPORBAR_OIDC_CLIENT_ID', 'needs SPORBAR_OIDC_ISSUER']);
    if (v.clientSecret === undefined) out.push(['SPORBAR_OIDC_CLIENT_SECRET', 'is required with SPORBAR_OIDC_CLIENT_ID (a confidential client)']);
    if (v.publicUrl === undefined) out.push(['SPORBAR_PUBLIC_URL', 'is required with SPORBAR_OIDC_CLIENT_ID (the redirect URI is it + /auth/callback)']);
  }
  return out;
}

/** Fail closed: development only when SPORBAR_ENV is exactly `development`; a typo, a capital, empty or unset is production. */
export const isProduction = (sporbarEnv: string | undefined): boolean => sporbarEnv !== 'development';

/**
 * loadConfig checks across variables only once each is valid on its own; the sign-in's (a token
 * issuer is required, …) are added to a refusal from the raw environment too, so an empty
 * environment lists every problem at once.
 */
export function accessApiConfigFromEnv(env: Env = process.env): AccessApiConfig {
  try {
    return loadAccessApiConfig(env);
  } catch (err) {
    if (!isSporbarError(err, 'SPB_ERR_CONFIG')) throw err;
    const listed = err.details['problems'] as ConfigProblem[];
    const set = (name: string): string | undefined => env[name]?.trim() || (env[`${name}_FILE`]?.trim() ? 'file' : undefined);
    const extra = signInProblems({
      production: isProduction(env['SPORBAR_ENV']),
      jwtPublicKey: set('SPORBAR_JWT_PUBLIC_KEY'),
      issuer: set('SPORBAR_OIDC_ISSUER'),
      clientId: set('SPORBAR_OIDC_CLIENT_ID'),
      clientSecret: set('SPORBAR_OIDC_CLIENT_SECRET'),
      publicUrl: set('SPORBAR_PUBLIC_URL'),
    })
      .map(([variable, problem]) => ({ variable, problem }))
      .filter((p) => !listed.some((l) => l.variable === p.variable));
    if (extra.length === 0) throw err;
    const order = Object.keys(accessApiEnv);
    const rank = (name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
    throw configError('sporbar-access-api', [...listed, ...extra].sort((a, b) => rank(a.variable) - rank(b.variable)));
  }
}

function loadAccessApiConfig(env: Env): AccessApiConfig {
  return loadConfig('sporbar-access-api', accessApiEnv, env, (v, problems) => {
    const production = isProduction(env['SPORBAR_ENV']);
    const pseudonymKey = { id: v.SPORBAR_PSEUDONYM_KEY_ID, secret: v.SPORBAR_PSEUDONYM_KEY };
    const previousPseudonymKeys = parsePreviousPseudonymKeys(v.SPORBAR_PSEUDONYM_PREVIOUS_KEYS);
    problems.check('SPORBAR_PSEUDONYM_PREVIOUS_KEYS', () => createPseudonymiser(pseudonymKey, previousPseudonymKeys));
    for (const [name, problem] of signInProblems({
      production,
      jwtPublicKey: v.SPORBAR_JWT_PUBLIC_KEY,
      issuer: v.SPORBAR_OIDC_ISSUER,
      clientId: v.SPORBAR_OIDC_CLIENT_ID,
      clientSecret: v.SPORBAR_OIDC_CLIENT_SECRET,
      publicUrl: v.SPORBAR_PUBLIC_URL,
    }))
      problems.add(name, problem);
    const oidc: OidcConfig | undefined =
      v.SPORBAR_OIDC_ISSUER === undefined
        ? undefined
        : {
            issuer: v.SPORBAR_OIDC_ISSUER,
            audience: v.SPORBAR_OIDC_AUDIENCE,
            cprClaim: v.SPORBAR_OIDC_CPR_CLAIM,
            rolesClaim: v.SPORBAR_OIDC_ROLES_CLAIM,
            roleMap: parseRoleMap(v.SPORBAR_OIDC_ROLE_MAP),
            displayName: v.SPORBAR_OIDC_DISPLAY_NAME,
            client: v.SPORBAR_OIDC_CLIENT_ID === undefined ? undefined : { id: v.SPORBAR_OIDC_CLIENT_ID, secret: v.SPORBAR_OIDC_CLIENT_SECRET ?? '' },
          };
    if (production && v.SPORBAR_JWT_PUBLIC_KEY !== undefined && isDevelopmentKey(v.SPORBAR_JWT_PUBLIC_KEY)) {
      problems.add('SPORBAR_JWT_PUBLIC_KEY', 'is the development JWT key, which is public: refused unless SPORBAR_ENV=development');
    }
    if (production && v.SPORBAR_LOG_URL === undefined) {
      problems.add('SPORBAR_LOG_URL', "is required unless SPORBAR_ENV=development: the log service (`npm run start -w @sporbar/log`) gives the report its integrity section");
    }
    if (production && v.SPORBAR_SUBJECT_MAP_KEY === undefined) {
      problems.add('SPORBAR_SUBJECT_MAP_KEY', "is required unless SPORBAR_ENV=development (SPORBAR_SUBJECT_MAP_KEY_FILE, the log service's subject-map.key): citizens' proof that their report leaves nothing out needs it");
    }
    const policyFile = v.SPORBAR_WITNESS_POLICY_FILE;
    const witnessPolicy = policyFile === undefined ? undefined : problems.check('SPORBAR_WITNESS_POLICY_FILE', () => loadPolicyFile(policyFile));
    if (policyFile === undefined && production) problems.add('SPORBAR_WITNESS_POLICY_FILE', "is required unless SPORBAR_ENV=development: the report judges the log's checkpoints by it (the log's key, the witnesses' keys, the quorum; the log service's own policy file)");
    return {
      logLevel: v.LOG_LEVEL,
      registerDir: v.SPORBAR_REGISTER_DIR,
      host: v.HOST,
      port: v.PORT,
      production,
      databaseUrl: v.DATABASE_URL,
      poolSize: v.PG_POOL_SIZE,
      kafka: kafkaClientOptionsFrom(v, problems),
      topic: v.SPORBAR_TOPIC,
      spoolDir: v.SPORBAR_SPOOL_DIR,
      lingerMs: v.SPORBAR_VIEWS_LINGER_MS,
      sealPublicKey: v.SPORBAR_SEAL_PUBLIC_KEY,
      routingSecret: v.SPORBAR_ROUTING_SECRET,
      pseudonymKey,
      previousPseudonymKeys,
      masterKey: problems.check('SPORBAR_MASTER_KEY', () => parseMasterKey({ id: v.SPORBAR_MASTER_KEY_ID, secret: v.SPORBAR_MASTER_KEY }, 'the master key')),
      previousMasterKeys: parsePreviousMasterKeys(v.SPORBAR_MASTER_PREVIOUS_KEYS),
      producerKey: parseProducerKey(ACCESS_API_PRODUCER_ID, v.SPORBAR_PRODUCER_KEY),
      jwtPublicKey: v.SPORBAR_JWT_PUBLIC_KEY,
      oidc,
      publicUrl: v.SPORBAR_PUBLIC_URL?.replace(/\/+$/, ''),
      rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
      selfViews: v.SPORBAR_SELF_VIEWS,
      tokenCacheSize: v.TOKEN_CACHE_SIZE,
      tokenMaxLifetimeSeconds: v.TOKEN_MAX_LIFETIME_SECONDS,
      logUrl: v.SPORBAR_LOG_URL,
      logTimeoutMs: v.SPORBAR_LOG_TIMEOUT_MS,
      witnessPolicy,
      subjectMapKey: v.SPORBAR_SUBJECT_MAP_KEY === undefined ? undefined : Buffer.from(v.SPORBAR_SUBJECT_MAP_KEY, 'base64url'),
      eventStore:
        v.SPORBAR_STORE === undefined
          ? undefined
          : eventStoreConfigFrom({ SPORBAR_STORE: v.SPORBAR_STORE, DATABASE_URL: v.EVENT_STORE_DATABASE_URL ?? v.DATABASE_URL }, problems, { adapters: ['postgres'] }),
    };
  });
}
