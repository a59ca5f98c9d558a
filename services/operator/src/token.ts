/**
 * The operator's interim issuer of access tokens for the access API (until citizens and staff sign
 * in through OIDC, a later issue): ES256 JWTs signed with access-token.key, with exactly the claims
 * the API requires (services/access-api/src/auth.ts): aud sporbar-access-api, sub, role, iat, exp,
 * and cpr for a citizen.
 */
import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { findControlCharacter, findCprLike, normaliseCpr } from '@sporbar/schemas';

export const ACCESS_API_AUDIENCE = 'sporbar-access-api';
export const TOKEN_ROLES = ['citizen', 'caseworker', 'dpo', 'auditor'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];
/** The access API's default TOKEN_MAX_LIFETIME_SECONDS: a longer token is refused there. */
export const DEFAULT_MAX_LIFETIME_SECONDS = 3600;

/** `15m`, `1h`, `900s`, `900` → seconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]+)(s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

export interface TokenRequest {
  readonly role: string;
  readonly cpr?: string | undefined;
  readonly sub?: string | undefined;
  readonly ttl: string;
  readonly maxLifetimeSeconds: number;
}

/** The claims of a token request, or every problem with it (pure). */
export function tokenClaims(req: TokenRequest, nowSeconds: number, randomId: () => string = randomUUID): { claims: Record<string, unknown> } | { problems: Array<{ variable: string; problem: string }> } {
  const problems: Array<{ variable: string; problem: string }> = [];
  const role = req.role as TokenRole;
  if (!TOKEN_ROLES.includes(role)) problems.push({ variable: '--role', problem: `must be one of ${TOKEN_ROLES.join(', ')}` });
  let cpr: string | undefined;
  if (role === 'citizen') {
    if (req.cpr === undefined) problems.push({ variable: '--cpr', problem: "is required for a citizen: the API derives the citizen's pseudonym from it" });
    else {
      try {
        cpr = normaliseCpr(req.cpr);
      } catch {
        problems.push({ variable: '--cpr', problem: 'is not a CPR number (DDMMYY-SSSS)' });
      }
    }
  } else if (req.cpr !== undefined) problems.push({ variable: '--cpr', problem: 'is for citizen tokens only' });
  const sub = req.sub ?? (role === 'citizen' ? `citizen-${randomId()}` : undefined);
  if (sub === undefined) problems.push({ variable: '--sub', problem: `is required for a ${req.role}: who this is (an employee id), recorded as the viewer of every report they open` });
  else if (sub.length === 0 || sub.length > 200 || findCprLike(sub) || findControlCharacter(sub)) {
    problems.push({ variable: '--sub', problem: 'must be 1-200 characters, without a CPR number or a control character (the API refuses such a sub)' });
  }
  const ttl = parseDuration(req.ttl);
  if (ttl === undefined || ttl < 1) problems.push({ variable: '--ttl', problem: 'must be a duration: 900, 900s, 15m or 1h' });
  else if (ttl > req.maxLifetimeSeconds) {
    problems.push({ variable: '--ttl', problem: `must be at most ${req.maxLifetimeSeconds} s: the access API refuses a longer token (TOKEN_MAX_LIFETIME_SECONDS; --max-lifetime if you raised it)` });
  }
  if (problems.length > 0) return { problems };
  return { claims: { aud: ACCESS_API_AUDIENCE, sub, role, ...(cpr ? { cpr } : {}), iat: nowSeconds, exp: nowSeconds + ttl! } };
}

/** Signs claims (from tokenClaims) with the ES256 private key (PKCS#8 PEM). */
export function signToken(privateKeyPem: string, claims: Record<string, unknown>): string {
  return createSigner({ key: privateKeyPem, algorithm: 'ES256' })(claims);
}
