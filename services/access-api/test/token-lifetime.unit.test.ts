import { createPrivateKey } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIENCE, readDevKey, tokenLifetimeProblem } from '../src/index.ts';
import { bearer, metric, ME, testApp } from './helpers.ts';

/** A token with exactly these claims (no defaults added by the signer: iat and exp as given). */
function token(claims: Record<string, unknown>): string {
  const key = readDevKey();
  const sign = createSigner({ key: createPrivateKey({ key: key.privateJwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: 'ES256', kid: key.kid, noTimestamp: true });
  return sign({ aud: AUDIENCE, sub: 'c-me', role: 'citizen', cpr: ME, ...claims });
}
const now = () => Math.floor(Date.now() / 1000);

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('access tokens have a maximum lifetime', () => {
  it('tokenLifetimeProblem (pure)', () => {
    const t = 1_000_000;
    expect(tokenLifetimeProblem({ iat: t, exp: t + 3600 }, 3600, t * 1000)).toBeNull();
    expect(tokenLifetimeProblem({ iat: t, exp: t + 3601 }, 3600, t * 1000)).toMatch(/exp - iat/);
    expect(tokenLifetimeProblem({ exp: t + 3600 }, 3600, t * 1000)).toBeNull();
    expect(tokenLifetimeProblem({ exp: t + 3601 }, 3600, t * 1000)).toMatch(/from now/);
    // "issued" in the future to look short-lived
    expect(tokenLifetimeProblem({ iat: t + 86_400, exp: t + 86_400 + 60 }, 3600, t * 1000)).toMatch(/from now/);
    expect(tokenLifetimeProblem({ iat: 'yesterday', exp: t + 60 }, 3600, t * 1000)).toMatch(/iat/);
    expect(tokenLifetimeProblem({}, 3600, t * 1000)).toMatch(/exp/);
  });

  it('a far-future exp is refused 401 (with or without iat) and never cached; a token within the maximum is served', async () => {
    const t = await testApp(() => Promise.resolve());
    app = t.app;
    const tooLong = [token({ iat: now(), exp: now() + 3601 }), token({ exp: now() + 10 * 365 * 86_400 }), token({ iat: now() + 86_400, exp: now() + 86_400 + 600 })];
    for (const tok of tooLong) {
      for (let i = 0; i < 2; i++) {
        const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(tok) });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED', message: expect.stringMatching(/maximum|from now/) });
      }
    }
    // every refused attempt was a miss: nothing of them was cached
    expect(await metric(app, 'sporbar_api_token_cache_total', { result: 'miss' })).toBe(6);
    expect(await metric(app, 'sporbar_api_token_cache_total', { result: 'hit' })).toBe(0);
    const fine = token({ iat: now(), exp: now() + 3000 });
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(fine) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token({ exp: now() + 600 })) })).statusCode).toBe(200);
  });

  it('the maximum is configurable', async () => {
    const t = await testApp(() => Promise.resolve(), { tokenMaxLifetimeSeconds: 60 });
    app = t.app;
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token({ iat: now(), exp: now() + 120 })) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token({ iat: now(), exp: now() + 60 })) })).statusCode).toBe(200);
  });

  it('a sub shaped like a CPR number, or holding a control character, is refused 401 and never echoed', async () => {
    const t = await testApp(() => Promise.resolve());
    app = t.app;
    for (const sub of ['0101901234', 'caseworker-010190-1234', 'c-me\u0000']) {
      const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token({ sub, exp: now() + 600 })) });
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toMatch(/0101901234|010190-1234/);
    }
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token({ sub: 'caseworker-4711', exp: now() + 600 })) })).statusCode).toBe(200);
  });
});
