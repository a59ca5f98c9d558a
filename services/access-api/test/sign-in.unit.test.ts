import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPglite } from '@sporbar/projections';
import { developmentProducerKey, formatProducerKey } from '@sporbar/key-store';
import { configRefusal, refusedVariables } from '../../common/test/support/config-refusal.ts';
import { startTestIssuer, type TestIssuer } from '../../common/test/support/oidc-issuer.ts';
import { accessApiConfigFromEnv, signInProblems } from '../src/config.ts';
import { claimAt, DEFAULT_OIDC_ROLE_MAP, identityOf, parseRoleMap, sporbarRoleOf } from '../src/oidc-claims.ts';
import { cookieValue, SESSION_COOKIE, SESSIONS_TABLE, setCookie, sqlSessionStore, sessionIdHash, type SessionStore } from '../src/sessions.ts';
import { decodeFlow, encodeFlow, storableIdToken } from '../src/routes/sign-in.ts';
import { ME, pseudonymiser, testApp } from './helpers.ts';

const mapping = { cprClaim: 'cpr', rolesClaim: 'realm_access.roles', roleMap: parseRoleMap(DEFAULT_OIDC_ROLE_MAP) };

describe('the OIDC claims (pure)', () => {
  it('parses the role map, refusing malformed pairs, unknown Sporbar roles and an issuer role mapped twice', () => {
    expect([...parseRoleMap(DEFAULT_OIDC_ROLE_MAP)]).toEqual([
      ['sporbar-citizen', 'citizen'],
      ['sporbar-caseworker', 'caseworker'],
      ['sporbar-dpo', 'dpo'],
      ['sporbar-auditor', 'auditor'],
    ]);
    expect([...parseRoleMap(' a=dpo , b=dpo ,')]).toEqual([['a', 'dpo'], ['b', 'dpo']]);
    expect(() => parseRoleMap('a')).toThrow(/issuerRole=sporbarRole/);
    expect(() => parseRoleMap('a=admin')).toThrow(/not a Sporbar role/);
    expect(() => parseRoleMap('a=dpo,a=auditor')).toThrow(/mapped twice/);
    expect(() => parseRoleMap(' , ')).toThrow(/maps no role/);
  });

  it('reads a dotted claim path, own properties only', () => {
    const claims = { cpr: 'x', realm_access: { roles: ['r'] }, nested: { a: { b: 'deep' } } };
    expect(claimAt(claims, 'cpr')).toBe('x');
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['r']);
    expect(claimAt(claims, 'nested.a.b')).toBe('deep');
    expect(claimAt(claims, 'nested.missing.b')).toBeUndefined();
    expect(claimAt(claims, 'cpr.length')).toBeUndefined();
    expect(claimAt(claims, 'realm_access.roles.0')).toBeUndefined();
    expect(claimAt(claims, '__proto__')).toBeUndefined();
    expect(claimAt(claims, 'constructor')).toBeUndefined();
  });

  it('maps the roles claim to exactly one Sporbar role: none or several is a 401 naming the claim, not its value', () => {
    expect(sporbarRoleOf({ realm_access: { roles: ['offline_access', 'sporbar-dpo'] } }, mapping)).toBe('dpo');
    expect(sporbarRoleOf({ realm_access: { roles: 'sporbar-auditor' } }, mapping)).toBe('auditor');
    expect(() => sporbarRoleOf({ realm_access: { roles: ['offline_access'] } }, mapping)).toThrow(/names no Sporbar role/);
    expect(() => sporbarRoleOf({}, mapping)).toThrow(/names no Sporbar role/);
    expect(() => sporbarRoleOf({ realm_access: { roles: ['sporbar-dpo', 'sporbar-citizen'] } }, mapping)).toThrow(/more than one Sporbar role \(citizen, dpo\)/);
    const twoToOne = { ...mapping, roleMap: parseRoleMap('a=dpo,b=dpo') };
    expect(sporbarRoleOf({ realm_access: { roles: ['a', 'b'] } }, twoToOne)).toBe('dpo');
  });

  it("takes a citizen's CPR from the configured claim; refuses a CPR-shaped sub and never quotes a value", () => {
    const citizen = { sub: 'a-uuid', realm_access: { roles: ['sporbar-citizen'] } };
    expect(identityOf({ ...citizen, cpr: ME }, mapping)).toEqual({ role: 'citizen', sub: 'a-uuid', cpr: ME });
    expect(identityOf({ ...citizen, person: { cpr: ME } }, { ...mapping, cprClaim: 'person.cpr' }).cpr).toBe(ME);
    expect(() => identityOf(citizen, mapping)).toThrow(/must carry the cpr claim/);
    let message = '';
    try {
      identityOf({ ...citizen, sub: ME, cpr: ME }, mapping);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/sub holds something shaped like a CPR number/);
    expect(message).not.toContain(ME);
    expect(identityOf({ sub: 'staff-1', realm_access: { roles: ['sporbar-caseworker'] }, cpr: ME }, mapping)).toEqual({ role: 'caseworker', sub: 'staff-1', cpr: undefined });
  });
});

describe('cookies and the flow cookie (pure)', () => {
  it('sets HttpOnly, Secure, SameSite=Lax, Path=/ and a Max-Age; 0 clears it', () => {
    expect(setCookie(SESSION_COOKIE, 'abc_-1', 299.9)).toBe('__Host-sporbar-session=abc_-1; Max-Age=299; Path=/; HttpOnly; Secure; SameSite=Lax');
    expect(setCookie(SESSION_COOKIE, '', -5)).toBe('__Host-sporbar-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
    expect(() => setCookie(SESSION_COOKIE, 'a;b', 1)).toThrow();
    expect(SESSION_COOKIE.startsWith('__Host-')).toBe(true);
  });
  it('reads one cookie of a Cookie header', () => {
    expect(cookieValue('a=1; __Host-sporbar-session=xyz; b=2', SESSION_COOKIE)).toBe('xyz');
    expect(cookieValue('x__Host-sporbar-session=xyz', SESSION_COOKIE)).toBeUndefined();
    expect(cookieValue(undefined, SESSION_COOKIE)).toBeUndefined();
  });
  it('round-trips the flow (verifier, state, nonce, language) and refuses anything else', () => {
    const f = { v: 'verifier', s: 'state', n: 'nonce', l: 'en' as const };
    expect(decodeFlow(encodeFlow(f))).toEqual(f);
    expect(decodeFlow('not-json')).toBeUndefined();
    expect(decodeFlow(Buffer.from('{"v":1}').toString('base64url'))).toBeUndefined();
    expect(decodeFlow('x'.repeat(2000))).toBeUndefined();
  });
});

describe('the ID token kept for sign-out (pure)', () => {
  it('is kept when it carries no CPR number, dropped when any claim does (the sessions table must hold none)', () => {
    expect(storableIdToken('h.p.s', { sub: 'f6a1-user', iss: 'https://idp.example', nonce: 'n' })).toBe('h.p.s');
    expect(storableIdToken('h.p.s', { sub: 'f6a1-user', cpr: ME })).toBeUndefined();
    expect(storableIdToken('h.p.s', { sub: 'x', 'dk:gov:saml:attribute:CprNumberIdentifier': ME.replace('-', '') })).toBeUndefined();
    expect(storableIdToken(undefined, { sub: 'x' })).toBeUndefined();
  });
});

describe('the sign-in configuration', () => {
  const key = () => randomBytes(32).toString('base64url');
  const base = {
    SPORBAR_SEAL_PUBLIC_KEY: key(),
    SPORBAR_ROUTING_SECRET: key(),
    SPORBAR_PSEUDONYM_KEY: key(),
    SPORBAR_MASTER_KEY: key(),
    SPORBAR_PRODUCER_KEY: formatProducerKey(developmentProducerKey('sporbar-access-api')),
    SPORBAR_ENV: 'development',
  };
  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

  it('needs a token issuer: the static key, an OIDC issuer, or both', () => {
    expect(refusedVariables(configRefusal(() => accessApiConfigFromEnv(base)))).toEqual(['SPORBAR_JWT_PUBLIC_KEY']);
    expect(accessApiConfigFromEnv({ ...base, SPORBAR_JWT_PUBLIC_KEY: jwtKey }).oidc).toBeUndefined();
    const oidc = accessApiConfigFromEnv({ ...base, SPORBAR_OIDC_ISSUER: 'http://127.0.0.1:8080/realms/r' }).oidc!;
    expect(oidc).toMatchObject({ issuer: 'http://127.0.0.1:8080/realms/r', audience: 'sporbar-access-api', cprClaim: 'cpr', rolesClaim: 'realm_access.roles', displayName: 'MitID', client: undefined });
    expect(oidc.roleMap.get('sporbar-dpo')).toBe('dpo');
  });

  it('lists every sign-in problem at once: production needs https, a client needs its secret and the public URL, a bad role map', () => {
    const err = configRefusal(() =>
      accessApiConfigFromEnv({ ...base, SPORBAR_ENV: 'production', SPORBAR_LOG_URL: 'http://x', SPORBAR_WITNESS_POLICY_FILE: '/nonexistent', SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(32, 9).toString('base64url'), SPORBAR_OIDC_ISSUER: 'http://kc/realms/r', SPORBAR_OIDC_CLIENT_ID: 'c', SPORBAR_OIDC_ROLE_MAP: 'x=root' }),
    );
    expect(refusedVariables(err)).toContain('SPORBAR_OIDC_ROLE_MAP');
    const problems = signInProblems({ production: true, jwtPublicKey: undefined, issuer: 'http://kc/realms/r', clientId: 'c', clientSecret: undefined, publicUrl: 'http://127.0.0.1:3000' });
    expect(problems.map(([v]) => v)).toEqual(['SPORBAR_OIDC_ISSUER', 'SPORBAR_PUBLIC_URL', 'SPORBAR_OIDC_CLIENT_SECRET']);
    expect(signInProblems({ production: false, jwtPublicKey: undefined, issuer: 'http://kc/realms/r', clientId: 'c', clientSecret: 's', publicUrl: 'http://127.0.0.1:3000' })).toEqual([]);
    expect(signInProblems({ production: false, jwtPublicKey: undefined, issuer: undefined, clientId: 'c', clientSecret: undefined, publicUrl: undefined }).map(([v]) => v)).toEqual([
      'SPORBAR_JWT_PUBLIC_KEY',
      'SPORBAR_OIDC_CLIENT_ID',
      'SPORBAR_OIDC_CLIENT_SECRET',
      'SPORBAR_PUBLIC_URL',
    ]);
    const many = configRefusal(() => accessApiConfigFromEnv({ ...base, SPORBAR_OIDC_ISSUER: 'http://kc/realms/r', SPORBAR_OIDC_CLIENT_ID: 'c' }));
    expect(refusedVariables(many)).toEqual(['SPORBAR_OIDC_CLIENT_SECRET', 'SPORBAR_PUBLIC_URL']);
  });
});

describe('server-side sessions in PGlite', () => {
  let pglite: PGlite;
  let store: SessionStore;
  beforeAll(async () => {
    pglite = new PGlite();
    store = sqlSessionStore(fromPglite(pglite));
  });
  afterAll(async () => pglite?.close());

  it('keeps only SHA-256 of the id, returns the session until it expires, deletes it', async () => {
    const subjects = pseudonymiser.all(ME);
    const id = await store.create({ role: 'citizen', viewerId: subjects[0]!, subjects, expiresAt: Date.now() + 60_000, idToken: 'id.token.x' });
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await pglite.query<Record<string, unknown>>(`SELECT * FROM ${SESSIONS_TABLE}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!['id_hash']).toBe(sessionIdHash(id));
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(JSON.stringify(rows)).not.toContain(ME.replace('-', ''));
    expect(await store.get(id)).toMatchObject({ role: 'citizen', viewerId: subjects[0], subjects, idToken: 'id.token.x' });
    expect(await store.get(id, Date.now() + 61_000)).toBeUndefined();
    expect(await store.get('not-a-session-id')).toBeUndefined();
    expect((await store.delete(id))?.idToken).toBe('id.token.x');
    expect(await store.get(id)).toBeUndefined();
  });
});

describe('the development sign-in and the session cookie, through the app', () => {
  let pglite: PGlite;
  let sessions: SessionStore;
  beforeAll(async () => {
    pglite = new PGlite();
    sessions = sqlSessionStore(fromPglite(pglite));
  });
  afterAll(async () => pglite?.close());

  it('offers the development sign-in on the page, creates a session for a fictional CPR and serves the report with the cookie; logout ends it', async () => {
    const { app, logs } = await testApp(async () => undefined, { sessions });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.body).toContain('Udviklingslogin – ikke MitID');
    expect(page.body).toContain('Development sign-in – not MitID');
    expect(page.body).not.toContain('/auth/login');
    const bad = await app.inject({ method: 'POST', url: '/auth/dev-login', payload: 'cpr=991399-1234&lang=en', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('991399');
    const crossSite = await app.inject({ method: 'POST', url: '/auth/dev-login', payload: `cpr=${ME}&lang=en`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', host: 'localhost:80' } });
    expect(crossSite.statusCode).toBe(403);
    const signIn = await app.inject({ method: 'POST', url: '/auth/dev-login', payload: `cpr=${ME}&lang=en`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(signIn.statusCode).toBe(303);
    expect(signIn.headers.location).toBe('/v1/me/report?lang=en');
    const setCookieHeader = String(signIn.headers['set-cookie']);
    expect(setCookieHeader).toMatch(/^__Host-sporbar-session=[A-Za-z0-9_-]{43}; Max-Age=(\d+); Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(Number(/Max-Age=(\d+)/.exec(setCookieHeader)![1])).toBeLessThanOrEqual(3600);
    expect(setCookieHeader).not.toContain(ME.replace('-', ''));
    const cookie = setCookieHeader.split(';')[0]!;
    const report = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { cookie } });
    expect(report.statusCode).toBe(200);
    const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBe(303);
    expect(logout.headers.location).toBe('/');
    expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-sporbar-session=; Max-Age=0;/);
    const after = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    const page2 = await app.inject({ method: 'GET', url: '/v1/me/report?lang=da', headers: { cookie, accept: 'text/html' } });
    expect(page2.statusCode).toBe(303);
    expect(page2.headers.location).toBe('/');
    expect(JSON.stringify(logs)).not.toContain(ME.replace('-', ''));
    await app.close();
  });

  it('has no development sign-in in production, nor with an OIDC issuer (404); the page links to the issuer instead', async () => {
    const prod = await testApp(async () => undefined, { sessions, production: true, jwtPublicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey });
    expect((await prod.app.inject({ method: 'POST', url: '/auth/dev-login', payload: `cpr=${ME}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(404);
    expect((await prod.app.inject({ method: 'GET', url: '/' })).body).not.toContain('Udviklingslogin');
    await prod.app.close();
    const withIssuer = await testApp(async () => undefined, {
      sessions,
      publicUrl: 'http://127.0.0.1:3000',
      oidc: { issuer: 'http://127.0.0.1:9/realms/x', audience: 'sporbar-access-api', ...mapping, displayName: 'Test-IdP', client: { id: 'c', secret: 's' } },
    });
    expect((await withIssuer.app.inject({ method: 'POST', url: '/auth/dev-login', payload: `cpr=${ME}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(404);
    const page = (await withIssuer.app.inject({ method: 'GET', url: '/' })).body;
    expect(page).toContain('<a class="sign-in" href="/auth/login?lang=da">Log ind med Test-IdP</a>');
    expect(page).toContain('<a class="sign-in" href="/auth/login?lang=en">Sign in with Test-IdP</a>');
    expect(page).not.toContain('MitID');
    await withIssuer.app.close();
  });
});

describe('the issuer sign-in refuses plainly', () => {
  it('a callback without its flow cookie is 401 (the page for a browser, JSON for an API client); an unreachable issuer is 503', async () => {
    const pglite = new PGlite();
    const { app } = await testApp(async () => undefined, {
      sessions: sqlSessionStore(fromPglite(pglite)),
      publicUrl: 'http://127.0.0.1:3000',
      oidc: { issuer: 'http://127.0.0.1:9/realms/x', audience: 'sporbar-access-api', ...mapping, client: { id: 'c', secret: 's' } },
    });
    const page = await app.inject({ method: 'GET', url: '/auth/callback?code=abc&state=def', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="error" role="alert"><p lang="da">Login lykkedes ikke');
    expect(page.body).not.toContain('abc');
    expect(String(page.headers['set-cookie'])).toMatch(/^__Host-sporbar-signin=; Max-Age=0;/);
    const json = await app.inject({ method: 'GET', url: '/auth/callback?code=abc&state=def' });
    expect(json.statusCode).toBe(401);
    expect(json.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED', message: expect.stringMatching(/expired or was started in another browser/) });
    const away = await app.inject({ method: 'GET', url: '/auth/login?lang=en', headers: { accept: 'text/html' } });
    expect(away.statusCode).toBe(503);
    expect(away.body).toContain('Signing in is not possible right now');
    await app.close();
    await pglite.close();
  }, 30_000);
});

describe('bearer tokens of an OIDC issuer (the small test issuer), with and without the static key', () => {
  let iss: TestIssuer;
  let other: TestIssuer;
  beforeAll(async () => {
    iss = await startTestIssuer({ audience: 'sporbar-access-api' });
    other = await startTestIssuer({ audience: 'sporbar-access-api', realm: 'other' });
  });
  afterAll(async () => {
    await iss?.close();
    await other?.close();
  });
  const oidcOptions = () => ({ issuer: iss.issuer, audience: 'sporbar-access-api', ...mapping, jwksCooldownMs: 0 });

  for (const withStaticKey of [true, false]) {
    it(`accepts the issuer's tokens with their one role and a citizen's CPR claim (static key too: ${withStaticKey})`, async () => {
      const { app, trace } = await testApp(async () => undefined, { oidc: oidcOptions(), ...(withStaticKey ? {} : { jwtPublicKey: undefined }) });
      const citizen = await iss.sign({ sub: 'uuid-1', cpr: ME, realm_access: { roles: ['sporbar-citizen'] } });
      const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${citizen}` } });
      expect(res.statusCode).toBe(200);
      expect(trace.views[0]).toMatchObject({ viewerRole: 'CITIZEN', viewerId: pseudonymiser.pseudonym(ME) });
      const dpo = await iss.sign({ sub: 'uuid-2', realm_access: { roles: ['sporbar-dpo'] } });
      expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${dpo}` } })).statusCode).toBe(403);
      const refused = async (token: string, pattern: RegExp) => {
        const r = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${token}` } });
        expect(r.statusCode, r.body).toBe(401);
        expect(r.json().message).toMatch(pattern);
        expect(r.body).not.toContain(ME.replace('-', ''));
      };
      await refused(await iss.sign({ sub: 'u', cpr: ME, realm_access: { roles: ['sporbar-citizen', 'sporbar-dpo'] } }), /more than one Sporbar role/);
      await refused(await iss.sign({ sub: 'u', realm_access: { roles: ['nothing'] } }), /no Sporbar role/);
      await refused(await iss.sign({ sub: 'u', aud: 'someone-else', realm_access: { roles: ['sporbar-dpo'] } }), /aud|refused/);
      await refused(await iss.sign({ sub: 'u', realm_access: { roles: ['sporbar-dpo'] } }, { omit: ['exp'] }), /exp|refused/);
      await refused(await iss.sign({ sub: 'u', realm_access: { roles: ['sporbar-dpo'] }, exp: Math.floor(Date.now() / 1000) + 7200 }), /lives longer|refused/);
      await refused(await other.sign({ sub: 'u', cpr: ME, realm_access: { roles: ['sporbar-citizen'] } }), /signature|refused|iss/);
      await refused(await iss.sign({ sub: 'u', cpr: 'not-a-cpr', realm_access: { roles: ['sporbar-citizen'] } }), /not a CPR number/);
      await app.close();
    });
  }
});
