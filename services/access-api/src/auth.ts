import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fjwt from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SporbarError, type Pseudonymiser, type ViewerRole } from '@sporbar/schemas';

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
    payload: { sub?: string; role?: string; cpr?: string; aud?: string };
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
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

/**
 * Bearer JWTs (ES256 only: `alg: none`, HS256 with the public key as secret and every other algorithm
 * are refused), audience sporbar-access-api, expiry required. Roles: citizen, caseworker, dpo, auditor.
 */
export const authPlugin = fp<AuthOptions>(async (app, options) => {
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  if (options.refuseDevKey && sameKey(key, devPublicKey())) {
    throw new SporbarError('SPB_ERR_CONFIG', 'the access API is configured with the development JWT key, which is public: refusing to start in production');
  }
  await app.register(fjwt, {
    secret: { public: key.export({ format: 'pem', type: 'spki' }).toString(), private: 'unused-verification-only' },
    verify: { algorithms: ['ES256'], allowedAud: AUDIENCE, requiredClaims: ['exp', 'sub', 'role', 'aud'] },
  });

  app.decorate('authenticate', async (request: FastifyRequest) => {
    let payload: { sub?: string; role?: string; cpr?: string };
    try {
      payload = await request.jwtVerify();
    } catch (e) {
      throw new SporbarError('SPB_ERR_UNAUTHORIZED', `bearer token refused: ${(e as Error).message}`);
    }
    const role = payload.role as Role;
    if (!ROLES.includes(role) || typeof payload.sub !== 'string') throw new SporbarError('SPB_ERR_UNAUTHORIZED', 'bearer token has no valid role or subject');
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
    request.principal = { id: subject ?? payload.sub, role, subject, subjects };
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
