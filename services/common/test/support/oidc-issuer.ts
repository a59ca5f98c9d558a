/**
 * A small OAuth2 issuer for the tests that need no Keycloak: it serves an OIDC discovery document
 * and a JWKS on a loopback port and signs tokens with keys it generates (jose). It lets a test make
 * tokens Keycloak never issues (alg none, HS256 with the public key, a far-future exp, a rotated key).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestIssuer {
  readonly issuer: string;
  /** A signed token; claims default to iss, aud, azp, iat = now, exp = now + 300. */
  sign(claims?: JWTPayload & { azp?: string }, opts?: { alg?: 'RS256' | 'ES256' | 'PS256'; kid?: string; omit?: readonly string[] }): Promise<string>;
  /** Adds a new signing key (a key rotation), returned by the JWKS from now on; returns its kid. */
  rotate(): Promise<string>;
  /** How often the JWKS was fetched. */
  readonly jwksFetches: () => number;
  /** The RS256 key's public JWK (for algorithm-confusion tokens). */
  readonly publicJwk: () => JWK;
  close(): Promise<void>;
}

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256' | 'PS256';
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(alg: Key['alg'], kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function startTestIssuer(options: { audience?: string; realm?: string } = {}): Promise<TestIssuer> {
  const keys: Key[] = [await makeKey('RS256', 'rs-1'), await makeKey('ES256', 'es-1'), await makeKey('PS256', 'ps-1')];
  let fetches = 0;
  let issuer = '';
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === `/realms/${options.realm ?? 'test'}/.well-known/openid-configuration`) {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/certs`, token_endpoint: `${issuer}/token` }));
    } else if (req.url === `/realms/${options.realm ?? 'test'}/certs`) {
      fetches++;
      res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/${options.realm ?? 'test'}`;
  let n = 1;
  return {
    issuer,
    async sign(claims = {}, opts = {}) {
      const alg = opts.alg ?? 'RS256';
      const key = opts.kid ? keys.find((k) => k.kid === opts.kid)! : keys.filter((k) => k.alg === alg).at(-1)!;
      const now = Math.floor(Date.now() / 1000);
      const all: Record<string, unknown> = { iss: issuer, aud: options.audience ?? 'sporbar-producer-gateway', azp: 'client-a', iat: now, exp: now + 300, ...claims };
      for (const o of opts.omit ?? []) delete all[o];
      return new SignJWT(all as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    async rotate() {
      const key = await makeKey('RS256', `rs-${++n}`);
      keys.push(key);
      return key.kid;
    },
    jwksFetches: () => fetches,
    publicJwk: () => keys[0]!.jwk,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
