import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isSporbarError } from '@sporbar/common/errors';
import { checkAnswer, type OpsCheck } from '@sporbar/common/health';
import { registerFiles as packagedRegisterFiles, type ProcessingRegister, type RegisterFiles } from '@sporbar/schemas';
import type { Pseudonymiser, SubjectKeyStore } from '@sporbar/key-store';
import { authPlugin, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, oidcPrincipals, type OidcPrincipals } from './auth.ts';
import { createTokenVerifier } from '@sporbar/common/oidc-token';
import type { ClaimMapping } from './oidc-claims.ts';
import { sqlSessionStore, type SessionStore } from './sessions.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { renderSignInPage, type SignInMode } from './html/sign-in-page.ts';
import { apiFormats } from './params.ts';
import type { ReadModels } from './read-models.ts';
import { recordViewWith, type SelfViewMode, type ViewSink } from './record-view.ts';
import { caseworkerRoutes } from './routes/caseworker.ts';
import { citizenRoutes } from './routes/citizen.ts';
import { oversightRoutes } from './routes/oversight.ts';
import { entryBundleRoutes, type EntrySource } from './routes/entries.ts';
import { logRoutes, type LogServiceLike } from '@sporbar/log/routes';
import { parsePolicy } from '@sporbar/auditor/note';
import { subjectMapKeys } from '@sporbar/auditor/map';
import { staticHelmetHeaders } from './security-headers.ts';

export interface AppOptions {
  readonly readModels: ReadModels;
  readonly register: ProcessingRegister;
  /** The register files (every notice version): each disclosure shows the version it was judged by. Default: the packaged register. */
  readonly registerFiles?: RegisterFiles;
  readonly pseudonymiser: Pseudonymiser;
  /** Opens personal details for the subject's own report; without it details are not shown. */
  readonly subjectKeys?: SubjectKeyStore;
  /** Where ReportViewed events go (the producer SDK). */
  readonly views: ViewSink;
  /** ES256 public key (PEM) that signs access tokens (the static issuer); this, `oidc` or both. */
  readonly jwtPublicKey?: string | import('node:crypto').KeyObject | undefined;
  /** An OpenID Connect issuer: its access tokens as bearer tokens and, with `client`, the citizens' browser sign-in. */
  readonly oidc?: AppOidcOptions | undefined;
  /** SPORBAR_PUBLIC_URL (no trailing slash): the sign-in's redirect URI is it + /auth/callback. */
  readonly publicUrl?: string | undefined;
  /** The citizen page's sessions; default: the table access_api_sessions in the read models' database. */
  readonly sessions?: SessionStore;
  /** Production: refuse the documented development key. */
  readonly production: boolean;
  readonly logger?: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /** The Merkle log's checkpoints and proofs (public endpoints; the citizen report carries proofs). */
  readonly log?: LogServiceLike;
  /** The event store, read by event id for the citizens' proof downloads (GET /v1/me/disclosures/:eventId/proof). */
  readonly eventStore?: import('@sporbar/event-store').EventStore;
  /** The subject map's key (SPORBAR_SUBJECT_MAP_KEY): with `log` and `eventStore`, citizens get the proof that their report is complete. */
  readonly subjectMapKey?: Uint8Array | undefined;
  /** The witness policy (C2SP tlog-policy text) the report and the page judge checkpoints by; served at /v1/log/policy. */
  readonly witnessPolicy?: string;
  /** The log's leaves for auditors' C2SP entry bundles (`/v1/audit/tile/entries/*`, with `log`). */
  readonly entries?: EntrySource;
  /** Requests per minute per client address (default 600). */
  readonly rateLimitPerMinute?: number;
  /**
   * A citizen viewing their own data: recorded off the critical path ('async', the default) or
   * awaited ('sync'). Anyone else's view is always awaited and fails closed. See record-view.ts.
   */
  readonly selfViews?: SelfViewMode;
  /** Verified tokens cached until they expire (default 10,000; 0 = verify every request). */
  readonly tokenCacheSize?: number;
  /** The longest access-token lifetime accepted, in seconds (default 3600): a far-future `exp` is refused. */
  readonly tokenMaxLifetimeSeconds?: number;
  /** `GET /ready`: whether its dependencies answer (the read models' database, the views' producer). Default: always ready. */
  readonly ready?: () => Promise<OpsCheck>;
}

export interface AppOidcOptions extends ClaimMapping {
  readonly issuer: string;
  readonly audience: string;
  /** What the sign-in page calls the issuer (default MitID). */
  readonly displayName?: string;
  /** The browser sign-in's confidential client. */
  readonly client?: { readonly id: string; readonly secret: string } | undefined;
  /** How long a fetched JWKS is used (ms; default 10 min) and the least time between two fetches for unknown kids (default 30 s). */
  readonly jwksCacheMaxAgeMs?: number;
  readonly jwksCooldownMs?: number;
}

interface ValidationIssue {
  readonly instancePath?: string;
  readonly params?: { readonly missingProperty?: string; readonly additionalProperty?: string };
}

/** The parameter an ajv error is about: `/from` → `from`, a missing or unknown one by its name. */
function validationField(issues: readonly ValidationIssue[]): string {
  const first = issues[0];
  const name = first?.params?.missingProperty ?? first?.params?.additionalProperty ?? first?.instancePath?.replace(/^\//, '').split('/')[0];
  return name || 'request';
}

/** A browser navigating (Accept names text/html before any JSON). */
const wantsPage = (accept: string | undefined): boolean => {
  const html = accept?.indexOf('text/html') ?? -1;
  const json = accept?.indexOf('application/json') ?? -1;
  return html >= 0 && (json < 0 || html < json);
};

const publicFile = (name: string) => readFileSync(new URL(`../public/${name}`, import.meta.url));

/** The access API: every feature a plugin; answers and errors share the SPB_ERR_* registry. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const logger = options.logger;
  const isInstance = typeof logger === 'object' && logger !== null && typeof (logger as { child?: unknown }).child === 'function';
  const app = Fastify({
    // A pino instance (the services' own logger) or fastify's logger options.
    ...(isInstance ? { loggerInstance: logger as FastifyBaseLogger } : { logger: logger ?? false }),
    // Request logs carry method, route and status only: never bodies (a caseworker's lookup body
    // holds a CPR number, which is why it is a POST body and not a URL) nor query strings.
    // The formats check values a pattern cannot (a day that exists, a cursor's parts): 400, not a database error.
    ajv: { customOptions: { allErrors: false, coerceTypes: true, removeAdditional: false, formats: apiFormats } },
    // One log line per request (below, when it completes) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // The router's own refusals (a malformed percent-escape, an over-long path parameter) in the API's
    // shape, without echoing the URL back.
    frameworkErrors: (error, _request, reply: import('fastify').FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void reply.status(status).send({ code: 'SPB_ERR_BAD_REQUEST', message: 'the URL is malformed or too long', details: { field: 'url' } });
    },
  });

  app.setErrorHandler((error, request, reply) => {
    // A browser whose session has ended (it sent the cookie, no bearer token, and asks for a page) goes back to the sign-in page.
    if (isSporbarError(error, 'SPB_ERR_UNAUTHORIZED') && request.headers.authorization === undefined && wantsPage(request.headers.accept) && !request.url.startsWith('/auth/')) {
      return reply.header('cache-control', 'no-store').redirect('/', 303);
    }
    if (isSporbarError(error)) {
      const field = error.details['field'];
      return reply.status(error.statusCode).send({ code: error.code, message: error.message, ...(typeof field === 'string' ? { details: { field } } : {}) });
    }
    const e = error as { validation?: ValidationIssue[]; validationContext?: string; statusCode?: number; message: string; code?: string };
    if (e.validation) {
      const field = validationField(e.validation);
      return reply.status(400).send({ code: 'SPB_ERR_BAD_REQUEST', message: e.message, details: { field, in: e.validationContext ?? 'request' } });
    }
    if (e.statusCode === 429) return reply.status(429).send({ code: 'SPB_ERR_RATE_LIMITED', message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'SPB_ERR_BAD_REQUEST', message: e.message });
    // Never the message: a database's error text quotes the value it refused (a query parameter, a
    // reason). The error's class, its code (SQLSTATE for PostgreSQL) and the route are enough to find it.
    request.log.error({ err: { name: error instanceof Error ? error.name : typeof error, code: e.code }, route: request.routeOptions.url ?? 'unmatched' }, 'unhandled error');
    return reply.status(500).send({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: 'SPB_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }));

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'sporbar_api_' });
  const duration = new Histogram({
    name: 'sporbar_api_request_seconds',
    help: 'Request duration by route and status.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [metrics],
  });
  const tokenCache = new Counter({ name: 'sporbar_api_token_cache_total', help: 'Bearer tokens found verified in the cache (hit) or verified now (miss).', labelNames: ['result'] as const, registers: [metrics] });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const ms = reply.elapsedTime;
    duration.observe({ route, status: String(reply.statusCode) }, ms / 1000);
    // Method, route and status only: never the query string (a caseworker's reason) or a body.
    request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    done();
  });

  // helmet's headers (CSP and the rest), computed once by @fastify/helmet and set on every response.
  const securityHeaders = await staticHelmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // The sign-out form's POST is answered with a redirect to the issuer's end-session endpoint,
        // which Chromium checks against form-action too.
        formAction: ["'self'", ...(options.oidc ? [new URL(options.oidc.issuer).origin] : [])],
      },
    },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
  await app.register(rateLimit, { max: options.rateLimitPerMinute ?? 600, timeWindow: '1 minute' });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Sporbar access API', version: '1.0.0', description: 'Who received personal data, and why: for citizens, caseworkers, DPOs and auditors.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (ES256)' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const maxLifetimeSeconds = options.tokenMaxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const o = options.oidc;
  const principals: OidcPrincipals | undefined =
    o === undefined
      ? undefined
      : oidcPrincipals({
          issuer: o.issuer,
          mapping: o,
          pseudonymiser: options.pseudonymiser,
          maxLifetimeSeconds,
          verify: createTokenVerifier({
            issuer: o.issuer,
            audience: o.audience,
            maxLifetimeSeconds,
            clockSkewSeconds: 5,
            requireClientId: false,
            ...(o.jwksCacheMaxAgeMs === undefined ? {} : { jwksCacheMaxAgeMs: o.jwksCacheMaxAgeMs }),
            ...(o.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: o.jwksCooldownMs }),
          }),
        });
  const sessions = options.sessions ?? sqlSessionStore(options.readModels.db);
  await app.register(authPlugin, {
    publicKey: options.jwtPublicKey,
    oidc: principals,
    sessions,
    pseudonymiser: options.pseudonymiser,
    refuseDevKey: options.production,
    ...(options.tokenCacheSize === undefined ? {} : { tokenCacheSize: options.tokenCacheSize }),
    ...(options.tokenMaxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds: options.tokenMaxLifetimeSeconds }),
    onTokenCache: (hit) => tokenCache.inc({ result: hit ? 'hit' : 'miss' }),
  });
  const recordView = recordViewWith(options.views, { selfViews: options.selfViews ?? 'async', metrics, log: app.log });
  // Closing waits for self-views still on their way to the producer (the producer is closed after the app).
  app.addHook('onClose', async () => recordView.drain());
  const common = { readModels: options.readModels, register: options.register, registerFiles: options.registerFiles ?? packagedRegisterFiles };
  const keys = options.subjectKeys ? { subjectKeys: options.subjectKeys } : {};
  const witnessPolicy = options.witnessPolicy === undefined ? undefined : parsePolicy(options.witnessPolicy);
  await app.register(citizenRoutes, { ...common, ...keys, ...(options.log ? { log: options.log } : {}), ...(options.eventStore ? { eventStore: options.eventStore } : {}), ...(witnessPolicy ? { witnessPolicy } : {}), ...(options.subjectMapKey ? { subjectMapKeys: subjectMapKeys(options.subjectMapKey) } : {}), recordView });
  if (options.log) {
    const log = options.log;
    // The public log routes, without the subject map's: a map proof is handed to its citizen only, inside their bundle (GET /v1/me/subject-map).
    const publicLog: LogServiceLike = {
      publicKey: () => log.publicKey(),
      latestCheckpoint: () => log.latestCheckpoint(),
      inclusionProof: (eventId, treeSize) => log.inclusionProof(eventId, treeSize),
      ...(log.inclusionProofs ? { inclusionProofs: (eventIds: readonly string[], treeSize?: number) => log.inclusionProofs!(eventIds, treeSize) } : {}),
      consistencyProof: (from, to) => log.consistencyProof(from, to),
    };
    await app.register(logRoutes, { log: publicLog, ...(options.witnessPolicy === undefined ? {} : { policy: options.witnessPolicy }) });
  }
  await app.register(caseworkerRoutes, { ...common, ...keys, recordView, pseudonymiser: options.pseudonymiser });
  await app.register(oversightRoutes, common);
  if (options.entries && options.log) await app.register(entryBundleRoutes, { entries: options.entries, log: options.log });

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { hide: true } }, async (_req, reply) => {
    const { status, body } = checkAnswer(options.ready ? await options.ready() : { ok: true }, 'ready');
    return reply.status(status).send(body);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  const devSignIn = !options.production && o === undefined;
  const signInMode: SignInMode = o?.client && options.publicUrl ? { kind: 'oidc', displayName: o.displayName ?? 'MitID' } : devSignIn ? { kind: 'development' } : { kind: 'none' };
  const indexTemplate = publicFile('index.html').toString('utf8');
  await app.register(signInRoutes, {
    signInPage: (error) => renderSignInPage(indexTemplate, signInMode, error),
    sessions,
    pseudonymiser: options.pseudonymiser,
    maxLifetimeSeconds,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    devSignIn,
    oidc: o?.client && principals ? { issuer: o.issuer, clientId: o.client.id, clientSecret: o.client.secret, principals } : undefined,
  });
  const index = renderSignInPage(indexTemplate, signInMode);
  const js = publicFile('citizen.js');
  const css = publicFile('citizen.css');
  const verifyJs = publicFile('verify.js');
  const chartCss = publicFile('chart.css');
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(index));
  app.get('/citizen.js', { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  app.get('/verify.js', { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(verifyJs));
  app.get('/chart.css', { schema: { hide: true } }, async (_req, reply) => reply.type('text/css; charset=utf-8').send(chartCss));
  app.get('/citizen.css', { schema: { hide: true } }, async (_req, reply) => reply.type('text/css; charset=utf-8').send(css));
  return app;
}
