import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fjwt from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createCache, type BoundedCache } from '@sporbar/common/cache';
import { SporbarError } from '@sporbar/common/errors';
import { findControlCharacter, findCprLike, type ViewerRole } from '@sporbar/schemas';
import type { Pseudonymiser } from '@sporbar/key-store';
import type { TokenVerifier } from '@sporbar/common/oidc-token';
import { identityOf, type ClaimMapping } from './oidc-claims.ts';
import { cookieValue, principalOfSession, SESSION_COOKIE, type SessionStore } from './sessions.ts';

export type Role = 'citizen' | 'caseworker' | 'dpo' | 'auditor';
export const ROLES: readonly Role[] = ['citizen', 'caseworker', 'dpo', 'auditor'];
export const VIEWER_ROLE: Record<Role, ViewerRole> = { citizen: 'CITIZEN', caseworker: 'CASEWORKER', dpo: 'DPO', auditor: 'AUDITOR' };

/** Who is asking. A citizen's subject comes from the token (its CPR claim, pseudonymised here), never from the URL. */
export interface Principal {
  readonly id: string;
  readonly role: Role;
  /** The citizen's own pseudonym under the current key; null for the other roles. */
  readonly subject: string | null;
  /** The citizen's pseudonyms under the current and every rotated-out key (findable after a rotation). */
  readonly subjects: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub?: string; role?: string; cpr?: string; aud?: string; exp?: number; iat?: number };
  }
}

export const DEV_KEY_FILE = new URL('../dev/dev-jwt-key.json', import.meta.url);
export const AUDIENCE = 'sporbar-access-api';

interface DevKeyFile {
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}
export const readDevKey = (): DevKeyFile => JSON.parse(readFileSync(DEV_KEY_FILE, 'utf8')) as DevKeyFile;
export const devPublicKey = (): KeyObject => createPublicKey({ key: readDevKey().publicJwk, format: 'jwk' });

export interface AuthOptions {
  /** The public key (PEM or a KeyObject) that signs access tokens: ES256. Optional when `oidc` is given. */
  readonly publicKey?: string | KeyObject | undefined;
  /** Access tokens of an OIDC issuer (those whose `iss` is its issuer). */
  readonly oidc?: OidcPrincipals | undefined;
  /** The citizen page's server-side sessions (the session cookie); without it only bearer tokens. */
  readonly sessions?: SessionStore | undefined;
  readonly pseudonymiser: Pseudonymiser;
  /** Refuse the documented development key (production). */
  readonly refuseDevKey: boolean;
  /** Verified tokens kept (LRU) until they expire; default 10,000; 0 turns the cache off. */
  readonly tokenCacheSize?: number;
  /** The longest lifetime accepted, in seconds (default 3600): `exp - iat`, and `exp` from now. */
  readonly maxLifetimeSeconds?: number;
  /** Counts cache hits and misses (the app's /metrics). */
  readonly onTokenCache?: (hit: boolean) => void;
}

/**
 * Verified bearer tokens → their principal, each until its token's `exp` (bounded, least recently
 * used first out). A token is immutable and signed, so the verdict cannot change before it expires:
 * the cache saves the ES256 verification and the pseudonymisation of the CPR claim on every request
 * after a client's first. Only verified tokens are cached; a refused one is checked again each time.
 */
export class PrincipalCache {
  readonly #entries: BoundedCache<string, { principal: Principal; expiresAt: number }>;
  constructor(readonly max: number) {
    this.#entries = createCache(max);
  }
  get(token: string, now = Date.now()): Principal | undefined {
    const e = this.#entries.get(token); // most recently used now
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.#entries.delete(token);
      return undefined;
    }
    return e.principal;
  }
  set(token: string, principal: Principal, expiresAt: number): void {
    this.#entries.set(token, { principal, expiresAt });
  }
  get size(): number {
    return this.#entries.size ?? 0;
  }
}

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * Why a verified token lives too long, or null. Pure. A token is refused when it was issued for more
 * than `maxSeconds` (`exp - iat`), or when its `exp` is more than `maxSeconds` from now whatever its
 * `iat` says (a token without `iat`, or one "issued" in the future): a stolen long-lived token is
 * worth little when every accepted one expires within the maximum.
 */
export function tokenLifetimeProblem(claims: { exp?: unknown; iat?: unknown }, maxSeconds: number, nowMs: number): string | null {
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'has no numeric exp';
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return 'has a non-numeric iat';
  if (typeof iat === 'number' && exp - iat > maxSeconds) return `lives longer than the maximum of ${maxSeconds} s (exp - iat)`;
  if (exp - nowMs / 1000 > maxSeconds) return `expires more than ${maxSeconds} s from now`;
  return null;
}

/** The token of `Authorization: Bearer <token>` exactly as @fastify/jwt reads it; anything unusual is left to it. */
const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

/** Whether a token key is the documented development key (public, so production refuses it). */
export const isDevelopmentKey = (key: string | KeyObject): boolean => sameKey(typeof key === 'string' ? createPublicKey(key) : key, devPublicKey());

/**
 * Bearer JWTs (ES256 only: `alg: none`, HS256 with the public key as secret and every other algorithm
 * are refused), audience sporbar-access-api, expiry required. Roles: citizen, caseworker, dpo, auditor.
 */
export const authPlugin = fp<AuthOptions>(async (app, options) => {
  const staticKey = options.publicKey === undefined ? undefined : typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  if (staticKey === undefined && options.oidc === undefined) throw new SporbarError('SPB_ERR_CONFIG', 'the access API needs a token issuer: a JWT public key, an OIDC issuer, or both');
  if (staticKey && options.refuseDevKey && isDevelopmentKey(staticKey)) {
    throw new SporbarError('SPB_ERR_CONFIG', 'the access API is configured with the development JWT key, which is public: refusing to start in production');
  }
  if (staticKey) {
    await app.register(fjwt, {
      secret: { public: staticKey.export({ format: 'pem', type: 'spki' }).toString(), private: 'unused-verification-only' },
      verify: { algorithms: ['ES256'], allowedAud: AUDIENCE, requiredClaims: ['exp', 'sub', 'role', 'aud'] },
    });
  }

  const cache = new PrincipalCache(options.tokenCacheSize ?? 10_000);
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;

  const staticPrincipal = async (request: FastifyRequest): Promise<{ principal: Principal; expiresAt: number }> => {
    let payload: { sub?: string; role?: string; cpr?: string; exp?: number; iat?: number };
    try {
      payload = await request.jwtVerify();
    } catch (e) {
      throw new SporbarError('SPB_ERR_UNAUTHORIZED', `bearer token refused: ${(e as Error).message}`);
    }
    // Refused before anything is cached: a refused token is checked again (and refused) each time.
    const tooLong = tokenLifetimeProblem(payload, maxLifetime, Date.now());
    if (tooLong) throw new SporbarError('SPB_ERR_UNAUTHORIZED', `bearer token refused: it ${tooLong}`);
    const role = payload.role as Role;
    if (!ROLES.includes(role) || typeof payload.sub !== 'string') throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'bearer token has no valid role or subject');
    // The sub becomes the viewer id in ReportViewed events and the access log: never a CPR number
    // (the citizen's CPR number travels in its own claim and is pseudonymised), never control characters.
    if (findCprLike(payload.sub) || findControlCharacter(payload.sub)) throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'bearer token refused: its sub holds something shaped like a CPR number or a control character');
    if (role === 'citizen' && typeof payload.cpr !== 'string') throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'a citizen token must carry the cpr claim');
    // exp is a required claim (checked by the verifier); seconds since the epoch.
    return { principal: buildPrincipal(role, payload.sub, payload.cpr, options.pseudonymiser), expiresAt: (payload.exp ?? 0) * 1000 };
  };

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header === undefined && options.sessions) {
      const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
      if (id !== undefined) {
        const session = await options.sessions.get(id);
        if (!session) throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'the session has ended or is unknown: sign in again');
        request.principal = principalOfSession(session);
        return;
      }
    }
    const token = BEARER.exec(header ?? '')?.[1];
    if (token !== undefined && cache.max > 0) {
      const cached = cache.get(token);
      options.onTokenCache?.(cached !== undefined);
      if (cached) {
        request.principal = cached;
        return;
      }
    }
    let verified: { principal: Principal; expiresAt: number };
    if (token !== undefined && options.oidc && (staticKey === undefined || unverifiedIssuer(token) === options.oidc.issuer)) {
      verified = await options.oidc.principalOf(token);
    } else if (staticKey) {
      verified = await staticPrincipal(request);
    } else {
      throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'Authorization: a Bearer access token (or the session cookie) is required');
    }
    request.principal = verified.principal;
    if (token !== undefined && cache.max > 0) cache.set(token, verified.principal, verified.expiresAt);
  });
});

/** A principal: a citizen's id is their pseudonym (current key), never the CPR number; staff keep their `sub`. */
function buildPrincipal(role: Role, sub: string, cpr: string | undefined, pseudonymiser: Pseudonymiser): Principal {
  let subjects: string[] = [];
  if (role === 'citizen') {
    try {
      subjects = pseudonymiser.all(cpr ?? '');
    } catch {
      throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'the cpr claim is not a CPR number');
    }
  }
  const subject = subjects[0] ?? null;
  return Object.freeze({ id: subject ?? sub, role, subject, subjects: Object.freeze(subjects) });
}

/** The `iss` a JWT claims before it is verified: only to choose the verifier, which then checks it. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/** Access tokens of one OIDC issuer → principals: one verifier for bearer tokens and the browser sign-in. */
export interface OidcPrincipals {
  readonly issuer: string;
  principalOf(token: string): Promise<{ principal: Principal; expiresAt: number }>;
}

/**
 * The verifier (@sporbar/common/oidc-token: signature by the issuer's JWKS, iss, aud, exp, iat, max
 * lifetime), then Sporbar's own checks: the lifetime from now, the one Sporbar role, the sub, the
 * citizen's CPR claim (pseudonymised at once). Refusals never quote a claim's value.
 */
export function oidcPrincipals(options: { issuer: string; verify: TokenVerifier; mapping: ClaimMapping; pseudonymiser: Pseudonymiser; maxLifetimeSeconds: number }): OidcPrincipals {
  return {
    issuer: options.issuer,
    async principalOf(token) {
      const { claims } = await options.verify(token);
      const tooLong = tokenLifetimeProblem(claims, options.maxLifetimeSeconds, Date.now());
      if (tooLong) throw new SporbarError('SPB_ERR_UNAUTHORIZED', `bearer token refused: it ${tooLong}`);
      const { role, sub, cpr } = identityOf(claims as Record<string, unknown>, options.mapping);
      return { principal: buildPrincipal(role, sub, cpr, options.pseudonymiser), expiresAt: (claims.exp ?? 0) * 1000 };
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}

/** preHandler: a valid token with one of these roles. */
export const requireRole =
  (...roles: Role[]) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await request.server.authenticate(request, reply);
    if (!roles.includes(request.principal!.role)) {
      throw new SporbarError('SPB_ERR_FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
    }
  };
