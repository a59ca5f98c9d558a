import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fjwt from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createCache, type BoundedCache } from '@sporbar/common/cache';
import { SporbarError } from '@sporbar/common/errors';
import { findControlCharacter, findCprLike, type ViewerRole } from '@sporbar/schemas';
import type { Pseudonymiser } from '@sporbar/key-store';

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
  /** The public key (PEM or a KeyObject) that signs access tokens: ES256. */
  readonly publicKey: string | KeyObject;
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
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  if (options.refuseDevKey && isDevelopmentKey(key)) {
    throw new SporbarError('SPB_ERR_CONFIG', 'the access API is configured with the development JWT key, which is public: refusing to start in production');
  }
  await app.register(fjwt, {
    secret: { public: key.export({ format: 'pem', type: 'spki' }).toString(), private: 'unused-verification-only' },
    verify: { algorithms: ['ES256'], allowedAud: AUDIENCE, requiredClaims: ['exp', 'sub', 'role', 'aud'] },
  });

  const cache = new PrincipalCache(options.tokenCacheSize ?? 10_000);
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const token = cache.max > 0 ? BEARER.exec(request.headers.authorization ?? '')?.[1] : undefined;
    if (token !== undefined) {
      const cached = cache.get(token);
      options.onTokenCache?.(cached !== undefined);
      if (cached) {
        request.principal = cached;
        return;
      }
    }
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
    let subjects: string[] = [];
    if (role === 'citizen') {
      if (typeof payload.cpr !== 'string') throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'a citizen token must carry the cpr claim');
      try {
        subjects = options.pseudonymiser.all(payload.cpr);
      } catch {
        throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'the cpr claim is not a CPR number');
      }
    }
    const subject = subjects[0] ?? null;
    // A citizen's id in logs and ReportViewed events is their pseudonym, never the CPR number.
    const principal: Principal = Object.freeze({ id: subject ?? payload.sub, role, subject, subjects: Object.freeze(subjects) });
    request.principal = principal;
    // exp is a required claim (checked by the verifier); seconds since the epoch.
    if (token !== undefined && typeof payload.exp === 'number') cache.set(token, principal, payload.exp * 1000);
  });
});

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
