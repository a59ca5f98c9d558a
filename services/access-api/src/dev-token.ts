import { createPrivateKey } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { AUDIENCE, readDevKey, type Role } from './auth.ts';

/**
 * Tokens signed with the documented development key (services/access-api/dev/dev-jwt-key.json —
 * public, in the repository, so never for production: the API refuses it there).
 */
export function devToken(claims: { role: Role; sub?: string; cpr?: string; expiresInSeconds?: number }): string {
  const key = readDevKey();
  const sign = createSigner({
    key: createPrivateKey({ key: key.privateJwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString(),
    algorithm: 'ES256',
    kid: key.kid,
    aud: AUDIENCE,
    expiresIn: (claims.expiresInSeconds ?? 3600) * 1000,
  });
  return sign({ sub: claims.sub ?? `dev-${claims.role}`, role: claims.role, ...(claims.cpr ? { cpr: claims.cpr } : {}) });
}
