/**
 * OAuth2 access tokens (RFC 9068 shaped JWTs) from one issuer, checked with jose: the signature
 * against the issuer's JWKS (its URL from the OIDC discovery document, the keys cached and fetched
 * again when a token names an unknown `kid`), `iss` exactly the configured issuer, `aud` containing
 * the configured audience, `exp` and `iat` required, a maximum lifetime (exp − iat) and age, `nbf` and
 * `iat` with a small clock skew, and only asymmetric algorithms (RS256, ES256, PS256: never `none`,
 * never HS*, so the public key cannot be used as an HMAC secret).
 *
 * Shared by the producer gateway (client-credentials tokens: the client id is required) and the
 * access API (citizens' and staff's tokens: `requireClientId: false`, the claims are what matter).
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isSporbarError, SporbarError } from './errors.ts';

export const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'PS256'] as const;

export interface TokenVerifierOptions {
  /** The `iss` the tokens must carry, exactly; discovery is at <issuer>/.well-known/openid-configuration. */
  readonly issuer: string;
  /** A value the token's `aud` must contain. */
  readonly audience: string;
  /** exp − iat at most, and iat no older than this, in seconds. */
  readonly maxLifetimeSeconds: number;
  /** Allowed clock difference for exp, nbf and iat, in seconds. */
  readonly clockSkewSeconds: number;
  /** For tests: the current time. */
  readonly now?: () => Date;
  /** How long a fetched JWKS is used before it is fetched again (ms). Default 10 min. */
  readonly jwksCacheMaxAgeMs?: number;
  /** At most one JWKS fetch per this many ms for unknown kids. Default 30 s. */
  readonly jwksCooldownMs?: number;
  /** Whether a token must name its client (`azp` or `client_id`). Default true (the gateway's producers). */
  readonly requireClientId?: boolean;
}

export interface VerifiedToken {
  /** The OAuth2 client the token was issued to (`azp`, or `client_id`); '' when it names none and none is required. */
  readonly clientId: string;
  readonly claims: JWTPayload;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

const unauthorized = (message: string): SporbarError => new SporbarError('SPB_ERR_UNAUTHORIZED', message);

/** The client id of a verified token's claims: `azp` or `client_id` (both present must agree). Pure. */
export function clientIdOf(claims: JWTPayload): string {
  const azp = claims['azp'];
  const cid = claims['client_id'];
  if (azp !== undefined && typeof azp !== 'string') throw unauthorized('token: azp is not a string');
  if (cid !== undefined && typeof cid !== 'string') throw unauthorized('token: client_id is not a string');
  if (azp !== undefined && cid !== undefined && azp !== cid) throw unauthorized('token: azp and client_id disagree');
  const id = azp ?? cid;
  if (!id) throw unauthorized('token: names no client (azp or client_id)');
  return id;
}

/** The token's lifetime check jose does not make: exp − iat at most maxLifetimeSeconds. Pure. */
export function checkLifetime(claims: JWTPayload, maxLifetimeSeconds: number): void {
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || typeof iat !== 'number') throw unauthorized('token: exp and iat are required');
  if (exp - iat > maxLifetimeSeconds) throw unauthorized(`token: lives longer than the ${maxLifetimeSeconds} s allowed`);
}

/** The bearer token of an Authorization header, or a 401. Pure. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw unauthorized('Authorization: a Bearer access token is required');
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!m) throw unauthorized('Authorization: not a Bearer token');
  return m[1]!;
}

interface Discovery {
  readonly issuer?: unknown;
  readonly jwks_uri?: unknown;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience, maxLifetimeSeconds, clockSkewSeconds } = options;
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let keys: Promise<JWTVerifyGetKey> | undefined;

  const discover = async (): Promise<JWTVerifyGetKey> => {
    let doc: Discovery;
    try {
      const res = await fetch(discoveryUrl, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as Discovery;
    } catch (err) {
      throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', `the issuer's discovery document (${discoveryUrl}) cannot be fetched: ${(err as Error).message}`);
    }
    if (doc.issuer !== issuer) throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', `the discovery document at ${discoveryUrl} names another issuer`);
    if (typeof doc.jwks_uri !== 'string') throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', `the discovery document at ${discoveryUrl} has no jwks_uri`);
    const jwksUrl = new URL(doc.jwks_uri);
    if (jwksUrl.protocol !== 'https:' && jwksUrl.protocol !== 'http:') throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', 'jwks_uri is not an http(s) URL');
    const remote = createRemoteJWKSet(jwksUrl, { cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000, cooldownDuration: options.jwksCooldownMs ?? 30_000, timeoutDuration: 5_000 });
    // A key the JWKS does not have is the token's fault (401); a JWKS that cannot be fetched is not (503).
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys || err instanceof joseErrors.JOSENotSupported) throw err;
        throw new SporbarError('SPB_ERR_AUTH_UNAVAILABLE', `the issuer's signing keys (${jwksUrl.href}) cannot be fetched: ${(err as Error).message}`);
      }
    };
  };
  // Discovered once; a failed discovery is tried again on the next request.
  const jwks = (): Promise<JWTVerifyGetKey> => {
    keys ??= discover().catch((err: unknown) => {
      keys = undefined;
      throw err;
    });
    return keys;
  };

  return async (token) => {
    try {
      decodeProtectedHeader(token); // a malformed token is a 401 even while the issuer is away
    } catch {
      throw unauthorized('token: malformed');
    }
    const getKey = await jwks();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms: [...TOKEN_ALGORITHMS],
        clockTolerance: clockSkewSeconds,
        maxTokenAge: maxLifetimeSeconds,
        requiredClaims: ['exp', 'iat'],
        ...(options.now ? { currentDate: options.now() } : {}),
      }));
    } catch (err) {
      if (isSporbarError(err)) throw err;
      throw unauthorized(`token: ${reason(err)}`);
    }
    checkLifetime(claims, maxLifetimeSeconds);
    if (options.requireClientId === false && claims['azp'] === undefined && claims['client_id'] === undefined) return { clientId: '', claims };
    return { clientId: clientIdOf(claims), claims };
  };
}

/** A refusal reason that names the check, never the token. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return `expired (its ${err.claim} claim)`;
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the ${err.claim} claim fails its check (${err.reason})`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signed with an algorithm that is not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "signed with a key the issuer's JWKS does not have";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed';
  if (err instanceof joseErrors.JOSEError) return err.code;
  return 'cannot be verified';
}
