/**
 * The citizen page's sign-in: OpenID Connect authorization code + PKCE (S256) with state and nonce,
 * through openid-client (discovery, the authorization URL, the code exchange, the ID token's checks),
 * or, in development without an issuer, a development sign-in with a fictional CPR number. Either way
 * the result is a server-side session (sessions.ts) and an HttpOnly cookie: no token reaches the page.
 *
 *   GET  /auth/login?lang=da|en  → 303 to the issuer (flow cookie: PKCE verifier, state, nonce; 10 min)
 *   GET  /auth/callback          → code exchange, the access token checked like a bearer token → session → 303 /v1/me/report
 *   POST /auth/logout            → session deleted, cookie cleared → 303 to the issuer's end_session_endpoint, or /
 *   POST /auth/dev-login         → development only (404 in production or with an issuer)
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { SporbarError } from '@sporbar/common/errors';
import { findCprLike } from '@sporbar/schemas';
import type { Pseudonymiser } from '@sporbar/key-store';
import type { OidcPrincipals } from '../auth.ts';
import { cookieValue, FLOW_COOKIE, FLOW_MAX_AGE_SECONDS, SESSION_COOKIE, setCookie, type SessionData, type SessionStore } from '../sessions.ts';

export interface OidcClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly principals: OidcPrincipals;
}

export interface SignInRoutesOptions {
  readonly sessions: SessionStore;
  readonly pseudonymiser: Pseudonymiser;
  /** A session lasts as long as the access token it came from, at most this (TOKEN_MAX_LIFETIME_SECONDS). */
  readonly maxLifetimeSeconds: number;
  /** SPORBAR_PUBLIC_URL without a trailing slash (the redirect URI is it + /auth/callback). */
  readonly publicUrl: string | undefined;
  /** The browser sign-in through an issuer (SPORBAR_OIDC_CLIENT_ID). */
  readonly oidc?: OidcClientOptions | undefined;
  /** The development sign-in (development and no issuer). */
  readonly devSignIn: boolean;
  /** The signed-out page with an error shown (role=alert), for a browser's failed development sign-in. */
  readonly signInPage?: (error: { readonly da: string; readonly en: string }) => string;
}

type Lang = 'da' | 'en';
const langOf = (v: unknown): Lang => (v === 'en' ? 'en' : 'da');
const reportUrl = (lang: Lang): string => `/v1/me/report?lang=${lang}`;

interface Flow {
  readonly v: string; // PKCE code verifier
  readonly s: string; // state
  readonly n: string; // nonce
  readonly l: Lang;
}

/** The flow cookie's value: base64url JSON of the verifier, state, nonce and language (all random but the language). */
export const encodeFlow = (f: Flow): string => Buffer.from(JSON.stringify(f), 'utf8').toString('base64url');
export function decodeFlow(value: string | undefined): Flow | undefined {
  if (!value || value.length > 1024) return undefined;
  try {
    const f = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Flow>;
    if (typeof f.v !== 'string' || typeof f.s !== 'string' || typeof f.n !== 'string') return undefined;
    return { v: f.v, s: f.s, n: f.n, l: langOf(f.l) };
  } catch {
    return undefined;
  }
}

/**
 * A form POST from another site is refused when the browser says so: `Sec-Fetch-Site` (anything but
 * same-origin or none), or an `Origin` naming another host. (The pages' Referrer-Policy no-referrer
 * makes Chromium send `Origin: null` even for its own forms, so null alone proves nothing.) SameSite=Lax
 * already keeps the session cookie off a cross-site POST; this also stops a forced development sign-in.
 */
function sameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') throw new SporbarError('SPB_ERR_FORBIDDEN', 'a sign-in form posted from another site');
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host) throw new SporbarError('SPB_ERR_FORBIDDEN', 'a sign-in form posted from another origin');
}

export const signInRoutes: FastifyPluginAsync<SignInRoutesOptions> = async (app, options) => {
  const { sessions } = options;
  // The forms post application/x-www-form-urlencoded (only to this plugin's routes).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const startSession = async (reply: FastifyReply, data: SessionData, lang: Lang): Promise<FastifyReply> => {
    const id = await sessions.create(data);
    const seconds = Math.floor((data.expiresAt - Date.now()) / 1000);
    return reply.header('set-cookie', setCookie(SESSION_COOKIE, id, seconds)).header('cache-control', 'no-store').redirect(reportUrl(lang), 303);
  };
  const sessionEnd = (tokenExpiresAt: number): number => Math.min(tokenExpiresAt, Date.now() + options.maxLifetimeSeconds * 1000);

  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (o: OidcClientOptions): Promise<oidc.Configuration> =>
    (discovered ??= oidc
      .discovery(new URL(o.issuer), o.clientId, undefined, oidc.ClientSecretBasic(o.clientSecret), o.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((err: unknown) => {
        discovered = undefined; // tried again on the next sign-in
        throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', `the issuer's discovery document cannot be fetched: ${(err as Error).message}`);
      }));
  const redirectUri = (): string => `${options.publicUrl}/auth/callback`;

  app.get<{ Querystring: { lang?: Lang } }>(
    '/auth/login',
    { schema: { hide: true, querystring: { type: 'object', additionalProperties: false, properties: { lang: { type: 'string', enum: ['da', 'en'] } } } } },
    async (request, reply) => orPage(request, reply, async () => {
      const o = options.oidc;
      if (!o || options.publicUrl === undefined) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no sign-in through an issuer is configured');
      const config = await configuration(o);
      const flow: Flow = { v: oidc.randomPKCECodeVerifier(), s: oidc.randomState(), n: oidc.randomNonce(), l: langOf(request.query.lang) };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri(),
        scope: 'openid',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.v),
        code_challenge_method: 'S256',
        state: flow.s,
        nonce: flow.n,
        ui_locales: flow.l,
      });
      return reply.header('set-cookie', setCookie(FLOW_COOKIE, encodeFlow(flow), FLOW_MAX_AGE_SECONDS)).header('cache-control', 'no-store').redirect(url.href, 303);
    }),
  );

  /** A browser whose sign-in failed gets the signed-out page with the reason in plain words (the status kept); API clients the JSON error. */
  const orPage = async (request: FastifyRequest, reply: FastifyReply, run: () => Promise<FastifyReply>): Promise<FastifyReply> => {
    try {
      return await run();
    } catch (err) {
      if (!options.signInPage || !(request.headers.accept ?? '').includes('text/html') || !(err instanceof SporbarError) || err.code === 'SPB_ERR_NOT_FOUND') throw err;
      const unavailable = err.code === 'SPB_ERR_AUTH_UNAVAILABLE';
      const words = unavailable
        ? { da: 'Login er ikke muligt lige nu. Prøv igen om lidt.', en: 'Signing in is not possible right now. Please try again shortly.' }
        : { da: 'Login lykkedes ikke, eller det tog for lang tid. Prøv igen.', en: 'The sign-in did not succeed, or took too long. Please try again.' };
      return reply.status(err.statusCode).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(options.signInPage(words));
    }
  };

  app.get('/auth/callback', { schema: { hide: true } }, async (request, reply) => orPage(request, reply, async () => {
    const o = options.oidc;
    if (!o || options.publicUrl === undefined) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no sign-in through an issuer is configured');
    const flow = decodeFlow(cookieValue(request.headers.cookie, FLOW_COOKIE));
    // The flow cookie is for this one flow: gone whatever happens next.
    void reply.header('set-cookie', setCookie(FLOW_COOKIE, '', 0));
    if (!flow) throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'the sign-in has expired or was started in another browser: sign in again');
    const config = await configuration(o);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(redirectUri() + query), { pkceCodeVerifier: flow.v, expectedState: flow.s, expectedNonce: flow.n, idTokenExpected: true });
    } catch (err) {
      // The error's class and code, never the response (it may quote the code or a token).
      const e = err as { name?: string; code?: string; error?: string };
      throw new SporbarError('SPB_ERR_UNAUTHORIZED', `the sign-in failed: ${e.error ?? e.code ?? e.name ?? 'error'}`);
    }
    // The access token passes the very checks a bearer token does (iss, aud, exp, max lifetime, JWKS).
    const { principal, expiresAt } = await o.principals.principalOf(tokens.access_token);
    return startSession(reply, { role: principal.role, viewerId: principal.id, subjects: principal.subjects, expiresAt: sessionEnd(expiresAt), idToken: storableIdToken(tokens.id_token, tokens.claims()) }, flow.l);
  }));

  app.post('/auth/logout', { schema: { hide: true } }, async (request, reply) => {
    sameOrigin(request);
    const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const ended = id === undefined ? undefined : await sessions.delete(id);
    void reply.header('set-cookie', setCookie(SESSION_COOKIE, '', 0)).header('cache-control', 'no-store');
    const o = options.oidc;
    if (o && options.publicUrl !== undefined && ended !== undefined) {
      const config = await configuration(o).catch(() => undefined);
      if (config?.serverMetadata().end_session_endpoint) {
        // With the ID token as the hint when one was kept; else the client id (the provider may ask to confirm).
        const url = oidc.buildEndSessionUrl(config, { ...(ended.idToken ? { id_token_hint: ended.idToken } : {}), post_logout_redirect_uri: `${options.publicUrl}/` });
        return reply.redirect(url.href, 303);
      }
    }
    return reply.redirect('/', 303);
  });

  app.post<{ Body: { cpr?: unknown; lang?: unknown } }>('/auth/dev-login', { schema: { hide: true } }, async (request, reply) => {
    if (!options.devSignIn) throw new SporbarError('SPB_ERR_NOT_FOUND', `no route POST /auth/dev-login`);
    sameOrigin(request);
    const cpr = request.body?.cpr;
    let subjects: string[];
    try {
      subjects = options.pseudonymiser.all(typeof cpr === 'string' ? cpr : '');
    } catch {
      // Never repeats the input.
      if (options.signInPage && (request.headers.accept ?? '').includes('text/html')) {
        return reply
          .status(400)
          .type('text/html; charset=utf-8')
          .send(options.signInPage({ da: 'Det er ikke et CPR-nummer: skriv DDMMÅÅ-NNNN, fx 010100-1234.', en: 'That is not a CPR number: type DDMMYY-NNNN, e.g. 010100-1234.' }));
      }
      throw new SporbarError('SPB_ERR_BAD_REQUEST', 'cpr: expected a (fictional) CPR number DDMMYY-SSSS', { details: { field: 'cpr' } });
    }
    return startSession(reply, { role: 'citizen', viewerId: subjects[0]!, subjects, expiresAt: Date.now() + options.maxLifetimeSeconds * 1000 }, langOf(request.body?.lang));
  });
};

/**
 * The ID token to keep for the end-session request, or nothing: a provider may put the CPR number in
 * the ID token (NemLog-in can), and the sessions table is in the read models' database, where no CPR
 * number may be stored in clear. Then the sign-out goes to the provider without the hint. Pure.
 */
export function storableIdToken(idToken: string | undefined, claims: Record<string, unknown> | undefined): string | undefined {
  if (idToken === undefined) return undefined;
  return findCprLike(JSON.stringify(claims ?? {})) ? undefined : idToken;
}
