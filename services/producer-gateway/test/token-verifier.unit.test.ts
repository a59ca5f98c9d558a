import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { bearerToken, createTokenVerifier, type TokenVerifier } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';

let iss: TestIssuer;
let verify: TokenVerifier;
beforeAll(async () => {
  iss = await startTestIssuer();
  verify = createTokenVerifier({ issuer: iss.issuer, audience: 'sporbar-producer-gateway', maxLifetimeSeconds: 3600, clockSkewSeconds: 5, jwksCooldownMs: 0 });
});
afterAll(() => iss?.close());

const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isSporbarError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('the access token verifier', () => {
  it.each(['RS256', 'ES256', 'PS256'] as const)('accepts a good %s token and names its client (azp or client_id)', async (alg) => {
    expect((await verify(await iss.sign({}, { alg }))).clientId).toBe('client-a');
    expect((await verify(await iss.sign({ client_id: 'client-b' }, { alg, omit: ['azp'] }))).clientId).toBe('client-b');
  });

  it.each([
    ['another issuer', { iss: 'http://127.0.0.1:1/realms/other' }, /iss/],
    ['another audience', { aud: 'account' }, /aud/],
    ['an audience list without ours', { aud: ['account', 'sporbar-access-api'] }, /aud/],
    ['expired beyond the skew', { iat: now() - 100, exp: now() - 10 }, /expired/],
    ['a far-future exp', { exp: now() + 365 * 86_400 }, /lives longer/],
    ['issued long ago', { iat: now() - 7200, exp: now() + 60 }, /iat|lives longer/],
    ['not valid yet (nbf)', { nbf: now() + 60 }, /nbf/],
    ['issued in the future', { iat: now() + 60, exp: now() + 300 }, /iat/],
    ['azp and client_id disagree', { client_id: 'client-b' }, /disagree/],
  ])('refuses %s with a 401 naming the check', async (_name, claims, why) => {
    const r = await refusal(verify(await iss.sign(claims)));
    expect(r.code).toBe('SPB_ERR_UNAUTHORIZED');
    expect(r.message).toMatch(why);
  });

  it('accepts a token expired by less than the clock skew', async () => {
    expect((await verify(await iss.sign({ iat: now() - 100, exp: now() - 2 }))).clientId).toBe('client-a');
  });

  it.each([['exp'], ['iat'], ['azp']])('refuses a token without %s', async (claim) => {
    expect((await refusal(verify(await iss.sign({}, { omit: [claim] })))).code).toBe('SPB_ERR_UNAUTHORIZED');
  });

  it('refuses alg none, HS256 keyed with the public key, a changed payload and garbage', async () => {
    const claims = { iss: iss.issuer, aud: 'sporbar-producer-gateway', azp: 'client-a', iat: now(), exp: now() + 60 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect(await refusal(verify(none))).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
    const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'rs-1' })}.${b64(claims)}`;
    const hs = `${head}.${createHmac('sha256', JSON.stringify(iss.publicJwk())).update(head).digest('base64url')}`;
    expect((await refusal(verify(hs))).message).toMatch(/algorithm/);
    const [h, , s] = (await iss.sign()).split('.');
    expect((await refusal(verify(`${h}.${b64({ ...claims, azp: 'client-z' })}.${s}`))).message).toMatch(/signature/);
    expect((await refusal(verify('not.a.token'))).message).toMatch(/malformed/);
  });

  it('fetches the JWKS again for an unknown kid (a key rotation), and refuses a kid the issuer does not have', async () => {
    await verify(await iss.sign());
    const before = iss.jwksFetches();
    const kid = await iss.rotate();
    expect((await verify(await iss.sign({}, { kid }))).clientId).toBe('client-a');
    expect(iss.jwksFetches()).toBe(before + 1);
    const [, p, s] = (await iss.sign()).split('.');
    const unknown = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'no-such-key' })}.${p}.${s}`;
    expect((await refusal(verify(unknown))).message).toMatch(/key the issuer/);
  });

  it('answers 503 while the issuer cannot be reached, and still 401 for a malformed token', async () => {
    const other = await startTestIssuer({ realm: 'away' });
    const v = createTokenVerifier({ issuer: other.issuer, audience: 'sporbar-producer-gateway', maxLifetimeSeconds: 3600, clockSkewSeconds: 5 });
    const token = await other.sign();
    const wrongIssuer = createTokenVerifier({ issuer: `${other.issuer}/`, audience: 'x', maxLifetimeSeconds: 60, clockSkewSeconds: 0 });
    expect((await refusal(wrongIssuer(token))).message).toMatch(/names another issuer/);
    await other.close();
    expect(await refusal(v(token))).toMatchObject({ code: 'SPB_ERR_AUTH_UNAVAILABLE' });
    expect(await refusal(v('garbage'))).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
  });

  it('reads only "Bearer <token>" from the Authorization header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    for (const h of [undefined, '', 'Basic dXNlcjpwdw==', 'Bearer', 'Bearer a b', 'Bearer  abc']) expect(() => bearerToken(h)).toThrow(/Authorization/);
  });
});
