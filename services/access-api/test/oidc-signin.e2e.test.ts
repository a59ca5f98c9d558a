import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { fromPglite } from '@sporbar/projections';
import { getFreePort } from '@sporbar/keycloak-infra';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '@sporbar/keycloak-infra/vitest';
import { DEFAULT_OIDC_ROLE_MAP, parseRoleMap } from '../src/oidc-claims.ts';
import { FLOW_COOKIE, SESSION_COOKIE, SESSIONS_TABLE, sqlSessionStore } from '../src/sessions.ts';
import { testApp } from './helpers.ts';
import { BROWSER_CLIENT, PASSWORD, provisionCitizensRealm, type CitizensRealm } from './support/keycloak-realm.ts';

/**
 * The citizen's sign-in in a real browser (Debian's Chromium): through Keycloak's own login page
 * (authorization code + PKCE, state, nonce; openid-client), onto the report, with the session in an
 * HttpOnly, Secure, SameSite=Lax `__Host-` cookie (Chromium accepts it on http://127.0.0.1, a secure
 * context) that page script cannot see; nothing in sessionStorage or localStorage; ordinary links and
 * the filter form; sign-out through Keycloak's end-session endpoint, after which the report sends the
 * browser back to the signed-out page and the session row is gone. And the development sign-in.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
if (!existsSync(CHROMIUM) && process.env['CI'] === 'true') throw new Error(`Chromium missing at ${CHROMIUM} under CI=true`);
const haveChromium = existsSync(CHROMIUM);
const haveKeycloak = haveChromium && keycloakAvailable();
const mapping = { cprClaim: 'cpr', rolesClaim: 'realm_access.roles', roleMap: parseRoleMap(DEFAULT_OIDC_ROLE_MAP) };

const launch = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

async function axe(page: Page): Promise<Array<{ id: string; nodes: number }>> {
  await page.evaluate(AXE);
  return (await page.evaluate(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.length })))",
  )) as Array<{ id: string; nodes: number }>;
}

/** What page script can reach: document.cookie and both storages. */
const scriptVisible = (page: Page) => page.evaluate('({ cookie: document.cookie, session: sessionStorage.length, local: localStorage.length })') as Promise<{ cookie: string; session: number; local: number }>;
/** The page's width: at 360 px nothing may stick out sideways. */
const pageWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;

async function sessionCookie(context: BrowserContext) {
  const cookies = await context.cookies();
  return { session: cookies.find((c) => c.name === SESSION_COOKIE), flow: cookies.find((c) => c.name === FLOW_COOKIE) };
}

describe.skipIf(!haveKeycloak)('signing in through Keycloak in Chromium (authorization code + PKCE)', () => {
  let kc: TestKeycloak;
  let realm: CitizensRealm;
  let pglite: PGlite;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    kc = await startTestKeycloak();
    const port = await getFreePort();
    base = `http://127.0.0.1:${port}`;
    realm = await provisionCitizensRealm(kc, { realm: `signin-${Date.now().toString(36)}`, publicUrl: base });
    pglite = new PGlite();
    ({ app } = await testApp(async () => undefined, {
      sessions: sqlSessionStore(fromPglite(pglite)),
      publicUrl: base,
      oidc: { issuer: realm.issuer, audience: 'sporbar-access-api', ...mapping, displayName: 'Keycloak', client: { id: BROWSER_CLIENT, secret: realm.browserSecret } },
    }));
    await app.listen({ host: '127.0.0.1', port });
    browser = await launch();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await pglite?.close();
    await kc?.stop();
  });

  it('the signed-out page links to the issuer by its configured name (not MitID) and has no axe violations, also at 360 px', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    await expect.poll(() => page.getByRole('link', { name: 'Log ind med Keycloak' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Sign in with Keycloak' }).count()).toBe(1);
    expect(await page.content()).not.toContain('MitID');
    expect(await axe(page)).toEqual([]);
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it("signs in on Keycloak's login page, lands on the report with an HttpOnly cookie only, follows links and the filter, signs out", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
    // Keycloak's own login page.
    await page.locator('#username').waitFor();
    expect(page.url().startsWith(`${realm.issuer}/protocol/openid-connect/auth?`)).toBe(true);
    const auth = new URL(page.url());
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect((await sessionCookie(context)).flow).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    await page.locator('#username').fill('citizen');
    await page.locator('#password').fill(PASSWORD);
    await page.locator('#kc-login').click();

    await page.getByRole('heading', { level: 1, name: /Who received my data/ }).waitFor();
    expect(page.url()).toBe(`${base}/v1/me/report?lang=en`);
    const { session, flow } = await sessionCookie(context);
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', domain: '127.0.0.1' });
    expect(session!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session!.expires).toBeGreaterThan(Date.now() / 1000);
    expect(session!.expires).toBeLessThanOrEqual(Date.now() / 1000 + 3600 + 5);
    expect(flow).toBeUndefined(); // used once, then cleared
    expect(await scriptVisible(page)).toEqual({ cookie: '', session: 0, local: 0 });
    const rows = (await pglite.query<{ role: string; viewer_id: string }>(`SELECT role, viewer_id FROM ${SESSIONS_TABLE}`)).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: 'citizen' });
    expect(rows[0]!.viewer_id).toMatch(/^psn_/);

    // The language link and the filter form: ordinary GET requests carried by the cookie.
    await page.getByRole('link', { name: 'Dansk' }).click();
    await page.getByRole('heading', { level: 1, name: /Hvem har modtaget mine oplysninger/ }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('da');
    await page.locator('#f-from').fill('2026-09-01');
    await page.getByRole('button', { name: 'Vis' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe('2026-09-01');
    expect(new URL(page.url()).searchParams.has('recipient')).toBe(false); // empty fields left out
    await page.getByRole('heading', { level: 1, name: /Hvem har modtaget mine oplysninger/ }).waitFor();
    expect(await scriptVisible(page)).toEqual({ cookie: '', session: 0, local: 0 });

    // Sign out: the session row goes, the cookie goes, Keycloak's end-session endpoint sends the browser back to /.
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(`${base}/`);
    expect((await sessionCookie(context)).session).toBeUndefined();
    expect((await pglite.query(`SELECT 1 FROM ${SESSIONS_TABLE}`)).rows).toHaveLength(0);
    await page.goto(`${base}/v1/me/report?lang=da`);
    expect(page.url()).toBe(`${base}/`);
    // The old cookie, replayed by hand, is refused: the session is gone on the server.
    const replay = await fetch(`${base}/v1/me/disclosures`, { headers: { cookie: `${SESSION_COOKIE}=${session!.value}`, accept: 'application/json' } });
    expect(replay.status).toBe(401);
    // Keycloak's own session ended too: signing in again asks for the password.
    await page.getByRole('link', { name: 'Log ind med Keycloak' }).click();
    await page.locator('#username').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});

describe.skipIf(!haveChromium)('the development sign-in in Chromium (no issuer, SPORBAR_ENV=development)', () => {
  let pglite: PGlite;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    pglite = new PGlite();
    ({ app } = await testApp(async () => undefined, { sessions: sqlSessionStore(fromPglite(pglite)) }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await pglite?.close();
  });

  it('says plainly in both languages that it is a development sign-in, not MitID; axe finds nothing at 1280 and 360 px', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    const notes = page.getByRole('note');
    await expect.poll(() => notes.count()).toBe(2);
    expect(await notes.nth(0).innerText()).toMatch(/Udviklingslogin – ikke MitID[\s\S]*opdigtet CPR-nummer/);
    expect(await notes.nth(1).innerText()).toMatch(/Development sign-in – not MitID[\s\S]*fictional CPR number/);
    expect(await notes.nth(0).isVisible()).toBe(true);
    expect(await notes.nth(1).isVisible()).toBe(true);
    expect(await axe(page)).toEqual([]);
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it('signs in with a fictional CPR number: a session cookie script cannot read, the report, sign-out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Fictional CPR number (DDMMYY-NNNN)').fill('010100-1234');
    await page.getByRole('button', { name: 'Sign in (development)' }).click();
    await page.getByRole('heading', { level: 1, name: /Who received my data/ }).waitFor();
    expect((await sessionCookie(context)).session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });
    expect(await scriptVisible(page)).toEqual({ cookie: '', session: 0, local: 0 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/`);
    expect((await sessionCookie(context)).session).toBeUndefined();
    expect((await pglite.query(`SELECT 1 FROM ${SESSIONS_TABLE}`)).rows).toHaveLength(0);
    await context.close();
  });
});
