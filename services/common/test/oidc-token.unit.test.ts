import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../src/oidc-token.ts';
import { startTestIssuer, type TestIssuer } from './support/oidc-issuer.ts';

/** The shared verifier's option for the access API: tokens need not name a client (the gateway's tests cover the rest). */
describe('createTokenVerifier({ requireClientId })', () => {
  let iss: TestIssuer;
  beforeAll(async () => {
    iss = await startTestIssuer({ audience: 'sporbar-access-api' });
  });
  afterAll(async () => iss?.close());
  const options = () => ({ audience: 'sporbar-access-api', maxLifetimeSeconds: 3600, clockSkewSeconds: 5, jwksCooldownMs: 0, issuer: iss.issuer });

  it('by default refuses a token that names no client; with requireClientId: false returns its claims and an empty client id', async () => {
    const token = await iss.sign({ sub: 'u1', cpr: 'claim' }, { omit: ['azp'] });
    await expect(createTokenVerifier(options())(token)).rejects.toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED', message: expect.stringMatching(/names no client/) });
    const verified = await createTokenVerifier({ ...options(), requireClientId: false })(token);
    expect(verified.clientId).toBe('');
    expect(verified.claims).toMatchObject({ sub: 'u1', cpr: 'claim', iss: iss.issuer });
  });

  it('still checks a named client (azp and client_id must agree) when it is not required', async () => {
    const verify = createTokenVerifier({ ...options(), requireClientId: false });
    expect((await verify(await iss.sign({ azp: 'web' }))).clientId).toBe('web');
    await expect(verify(await iss.sign({ azp: 'web', client_id: 'other' }))).rejects.toMatchObject({ message: expect.stringMatching(/disagree/) });
  });
});
