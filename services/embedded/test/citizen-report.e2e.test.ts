import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OIDC_ROLE_MAP, parseRoleMap } from '@sporbar/access-api';
import { registerFiles, registerWords } from '@sporbar/schemas';
import { getFreePort } from '@sporbar/keycloak-infra';
import { keycloakAvailable, startTestKeycloak, type TestKeycloak } from '@sporbar/keycloak-infra/vitest';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';
import { recordRichCitizen, type RichCitizen } from './support/rich-citizen.ts';
import { BROWSER_CLIENT, CITIZEN_CPR, PASSWORD, provisionCitizensRealm, type CitizensRealm } from '../../access-api/test/support/keycloak-realm.ts';
import { codesIn, otherLanguageTexts } from '../../access-api/test/support/plain-words.ts';

/**
 * The citizen's page as a citizen meets it, in Debian's Chromium: signed in through a real OpenID
 * Connect provider (Keycloak's own login page; authorization code + PKCE), over the whole flow (SDK →
 * ingest → event store → projections → API) with fourteen months of one person's disclosures — MitID,
 * NemKonto, support with consent given and withdrawn, a transfer to Greenland, one disclosure the
 * notice does not cover, one without the consent it needed, details that lived and details erased
 * by retention. In both languages: no register id, slug or code in what the page shows and no text of
 * the other language; axe-core finds no WCAG 2.1 A/AA violation signed out, on the report, filtered,
 * with a disclosure open and with erased details open; keyboard only; 360 px without sideways scroll;
 * both copies (PDF read back with poppler's pdftotext, JSON) downloaded. Screenshots go to
 * test-artifacts/ at the repository root.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const haveChromium = existsSync(CHROMIUM);
const havePoppler = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (process.env['CI'] === 'true' && (!haveChromium || !havePoppler)) throw new Error(`under CI=true Chromium (${CHROMIUM}) and poppler-utils (pdftotext) are required`);
const runnable = haveChromium && havePoppler && keycloakAvailable();

type Lang = 'da' | 'en';
const longDate = (d: Date, lang: Lang) => d.toLocaleDateString(lang === 'da' ? 'da-DK' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Copenhagen' });

async function axe(page: Page): Promise<Array<{ id: string; nodes: number; targets: string[] }>> {
  await page.evaluate(AXE);
  return (await page.evaluate(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map((n) => String(n.target)) })))",
  )) as Array<{ id: string; nodes: number; targets: string[] }>;
}
/** What a person sees: the rendered text, closed <details> bodies included (they are one click away). */
const shownText = (page: Page) => page.evaluate('document.body.innerText + " " + [...document.querySelectorAll("details")].map((d) => d.textContent).join(" ")') as Promise<string>;
const pageWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;
const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage });
/** The element that has the keyboard's focus, in words a test can check, and whether its focus is drawn. */
const focused = (page: Page) =>
  page.evaluate(
    '(() => { const e = document.activeElement; const s = getComputedStyle(e); return { inTimeline: e.closest("#timeline") !== null, tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || e.getAttribute("aria-label") || "").trim().slice(0, 60), id: e.id, outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 }; })()',
  ) as Promise<{ inTimeline: boolean; tag: string; text: string; id: string; outline: boolean }>;

describe.skipIf(!runnable)('the citizen page for a real citizen: Keycloak sign-in, words not codes, copies, accessible (Chromium)', () => {
  let kc: TestKeycloak;
  let realm: CitizensRealm;
  let system: EmbeddedSystem;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let rich: RichCitizen;
  const errors: string[] = [];
  const today = new Date();
  const names = (lang: Lang) => registerWords(registerFiles, lang);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    kc = await startTestKeycloak();
    const port = await getFreePort();
    base = `http://127.0.0.1:${port}`;
    realm = await provisionCitizensRealm(kc, { realm: `citizen-page-${Date.now().toString(36)}`, publicUrl: base });
    system = await startEmbeddedSystem({
      signIn: {
        publicUrl: base,
        oidc: {
          issuer: realm.issuer,
          audience: 'sporbar-access-api',
          cprClaim: 'cpr',
          rolesClaim: 'realm_access.roles',
          roleMap: parseRoleMap(DEFAULT_OIDC_ROLE_MAP),
          displayName: 'MitID',
          client: { id: BROWSER_CLIENT, secret: realm.browserSecret },
        },
      },
    });
    rich = await recordRichCitizen(system, CITIZEN_CPR);
    // The support story is past its retention: its details are shredded now.
    expect(await system.runRetention(today)).toBeGreaterThanOrEqual(1);
    await system.settle();
    await system.checkpointNow();
    // The subject map over every disclosure: the page proves the list complete on the device.
    expect(await system.commitSubjectMapNow()).toBeGreaterThan(rich.total);
    await system.app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // A Danish citizen's browser: Danish locale and time zone (the date fields show dd.mm.åååå).
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'da-DK', timezoneId: 'Europe/Copenhagen' });
    page = await context.newPage();
    // A shared CI machine (two cores, Keycloak's JVM, other test files): generous waits, never a sleep.
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (e) => errors.push(e.message));
  }, 240_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await system?.close();
    await kc?.stop();
  });

  it('signed out: the sign-in page in Danish and English, axe finds nothing, fits 360 px', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Log ind med MitID' }).waitFor();
    expect(await page.getByRole('link', { name: 'Sign in with MitID' }).count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-signed-out-desktop');
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-signed-out-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs in on the provider's login page and reads the report in Danish: words, never codes; axe finds nothing at 1280 and 360 px", async () => {
    await page.getByRole('link', { name: 'Log ind med MitID' }).click();
    await page.locator('#username').fill('citizen');
    await page.locator('#password').fill(PASSWORD);
    await page.locator('#kc-login').click();
    await page.getByRole('heading', { level: 1, name: 'Hvem har modtaget mine oplysninger – og hvorfor?' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('da');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === '__Host-sporbar-session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });

    // The summary first, then the chart of every disclosure per recipient.
    expect(await page.locator('#total').innerText()).toContain(`${rich.total} videregivelser til`);
    const chart = page.locator('#timeline-chart svg[role="img"]');
    expect(await chart.count()).toBe(1);
    expect(await chart.locator('title').textContent()).toBe('Videregivelser pr. modtager over tid');
    expect(await chart.locator('desc').textContent()).toContain(`${rich.total} videregivelser`);
    expect(await chart.innerHTML()).toContain(names('da').recipient('nets-danid'));

    // Words, never codes; no English register text.
    const text = await shownText(page);
    expect(codesIn(text, registerFiles)).toEqual([]);
    expect(otherLanguageTexts(text, registerFiles, 'da')).toEqual([]);
    for (const words of ['Databehandler', 'Selvstændig dataansvarlig', 'Standardbestemmelser om databeskyttelse', 'Grønland', 'Privatlivspolitikken siger intet om automatiske afgørelser, herunder profilering.', 'Ret til berigtigelse', 'Datatilsynet', 'Hent som PDF']) {
      expect(text).toContain(words);
    }
    // Every part of Art. 15 has its section; both flagged disclosures are marked and explained.
    for (const id of ['purposes', 'categories', 'recipients', 'retention', 'rights', 'complaint', 'sources', 'automated', 'transfers', 'consents', 'not-covered', 'deleted']) {
      expect(await page.locator(`#art15-${id} h2`).count(), id).toBe(1);
    }
    expect(await page.locator('li.disclosure.flagged').count()).toBe(2);
    // The summary counts both: the one the notice does not cover and the one without consent.
    expect(await page.locator('#total').innerText()).toContain('2 af dem er ikke dækket af privatlivspolitikken eller af dit samtykke');
    expect(await page.locator('#art15-not-covered').innerText()).toContain('Denne videregivelse kræver dit samtykke');
    // The citizen's own deadlines: the support story's are past (deleted), the NemKonto account's are not.
    const retention = await page.locator('#art15-retention').innerText();
    expect(retention).toMatch(/Slettet den \d+\. \p{L}+ 2026/u);
    expect(retention).toContain('Slettes senest 1. januar 2037');
    // "Is anything missing?": the completeness proof, checked on this device, in words.
    const complete = page.locator('#subject-map-check [role="status"]');
    await expect.poll(() => complete.getAttribute('data-state'), { timeout: 30_000 }).toBe('ok');
    expect(await complete.innerText()).toMatch(new RegExp(`^Kontrolleret på denne enhed: alle ${rich.total} videregivelser om dig til og med post [0-9.]+ i loggen er med – ingen mangler, ingen er tilføjet`));
    expect(await page.locator('#subject-map-check h2').innerText()).toBe('Mangler der noget?');
    await page.locator('#subject-map-check').screenshot({ path: `${ARTIFACTS}citizen-completeness-da.png` });

    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-report-da-desktop');
    await shot(page, 'citizen-report-da-desktop-full', true);
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-report-da-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 180_000);

  it('keyboard only: skip link, then every control in order with its focus drawn; filter by a recipient and open a disclosure', async () => {
    await page.goto(`${base}/v1/me/report?lang=da`);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ tag: 'a', text: 'Spring til indholdet', outline: true });
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash).toBe('#main');
    // Tab on: every stop has a visible focus; the copies, the recipient filter and its button are reached.
    const stops: Array<{ inTimeline: boolean; tag: string; text: string; id: string; outline: boolean }> = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      stops.push(f);
      if (f.id === 'f-recipient') break;
    }
    expect(stops.every((s) => s.outline), JSON.stringify(stops.filter((s) => !s.outline))).toBe(true);
    expect(stops.map((s) => s.text)).toEqual(expect.arrayContaining(['Hent som PDF', 'Hent som JSON (til andre programmer)']));
    expect(stops.at(-1)!.id).toBe('f-recipient');
    // Choose a recipient with the arrow keys, tab to "Vis", press Enter: the filtered list.
    const akamai = names('da').recipient('akamai-denmark');
    while ((await page.locator('#f-recipient option:checked').innerText()) !== akamai) await page.keyboard.press('ArrowDown');
    while ((await focused(page)).text !== 'Vis') await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('recipient')).toBe('akamai-denmark');
    await expect.poll(async () => [...new Set(await page.locator('#timeline .recipient').allInnerTexts())]).toEqual([akamai]);
    expect(await axe(page)).toEqual([]);
    await page.locator('#disclosures').scrollIntoViewIfNeeded();
    await shot(page, 'citizen-report-da-filtered');
    // Tab to the first disclosure and open it with Enter: what was disclosed, and its proof checked on this device.
    for (let f = await focused(page); !(f.tag === 'summary' && f.inTimeline); f = await focused(page)) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const open = page.locator('#timeline details[open]');
    await expect.poll(() => open.count()).toBe(1);
    expect(await open.locator('.disclosure-body').innerText()).toContain('Hvad blev videregivet');
    await expect.poll(() => open.locator('.proof-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('ok');
    expect(await open.locator('.proof-status').innerText()).toMatch(/^Kontrolleret på denne enhed/);
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-report-da-expanded');
  }, 90_000);


  it.each(['da', 'en'] as const)('%s: the erased details say when they were erased; the living ones show what was disclosed', async (lang) => {
    await page.goto(`${base}/v1/me/report?lang=${lang}`);
    const item = (eventId: string) => page.locator(`li.disclosure:has([data-event-id="${eventId}"])`);
    await item(rich.ids.erased).locator('summary').click();
    const erased = await item(rich.ids.erased).locator('.disclosure-body').innerText();
    expect(erased).toContain(lang === 'da' ? `Slettet den ${longDate(today, 'da')}` : `Erased on ${longDate(today, 'en')}`);
    expect(await page.content()).not.toContain('+45 20 00 00 01');
    await item(rich.ids.withDetails).locator('summary').click();
    const living = await item(rich.ids.withDetails).locator('.disclosure-body').innerText();
    expect(living).toContain('198.51.100.23');
    expect(living).toContain(lang === 'da' ? 'IP-adresse' : 'IP address');
    // The flagged ones say why, in words.
    await item(rich.ids.consentMissing).locator('summary').click();
    expect(await item(rich.ids.consentMissing).innerText()).toContain(lang === 'da' ? 'Uden dit samtykke' : 'Without your consent');
    expect(await axe(page)).toEqual([]);
    await item(rich.ids.erased).scrollIntoViewIfNeeded();
    await shot(page, `citizen-report-${lang}-erased-open`);
  });

  it('English: the same report in English words, no codes and no Danish register text; axe finds nothing at 1280 and 360 px', async () => {
    await page.goto(`${base}/v1/me/report?lang=da`);
    await page.getByRole('link', { name: /English/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Who received my data – and why?' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    const text = await shownText(page);
    expect(codesIn(text, registerFiles)).toEqual([]);
    expect(otherLanguageTexts(text, registerFiles, 'en')).toEqual([]);
    for (const words of ['Data processor', 'Greenland', 'The privacy notice says nothing about automated decisions, including profiling.', 'Download as PDF']) expect(text).toContain(words);
    expect(await page.locator('#total').innerText()).toContain(`${rich.total} disclosures to`);
    const complete = page.locator('#subject-map-check [role="status"]');
    await expect.poll(() => complete.getAttribute('data-state'), { timeout: 30_000 }).toBe('ok');
    expect(await complete.innerText()).toMatch(new RegExp(`^Checked on this device: all ${rich.total} disclosures about you up to entry [0-9,]+ of the log are here — none missing, none added`));
    await page.locator('#subject-map-check').screenshot({ path: `${ARTIFACTS}citizen-completeness-en.png` });
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-report-en-desktop');
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await shot(page, 'citizen-report-en-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('English, filtered and with a disclosure open: still no codes, and axe finds nothing', async () => {
    await page.goto(`${base}/v1/me/report?lang=en`);
    const akamai = names('en').recipient('akamai-denmark');
    await page.getByLabel('Recipient', { exact: true }).selectOption({ label: akamai });
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('recipient')).toBe('akamai-denmark');
    await expect.poll(async () => [...new Set(await page.locator('#timeline .recipient').allInnerTexts())]).toEqual([akamai]);
    expect(await axe(page)).toEqual([]);
    await page.locator('#timeline li.disclosure.flagged summary').first().click();
    const open = page.locator('#timeline details[open]');
    await expect.poll(() => open.count()).toBe(1);
    expect(await open.innerText()).toContain('Why is it marked?');
    const text = await shownText(page);
    expect(codesIn(text, registerFiles)).toEqual([]);
    expect(otherLanguageTexts(text, registerFiles, 'en')).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await open.scrollIntoViewIfNeeded();
    await shot(page, 'citizen-report-en-filtered-open');
  });

  it.each(['da', 'en'] as const)('%s: both copies to keep — the PDF says it in words (pdftotext), the JSON holds every disclosure', async (lang) => {
    await page.goto(`${base}/v1/me/report?lang=${lang}`);
    const dir = mkdtempSync(join(tmpdir(), 'sporbar-copy-'));
    try {
      const [pdfDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: lang === 'da' ? 'Hent som PDF' : 'Download as PDF' }).click()]);
      expect(pdfDownload.suggestedFilename()).toMatch(lang === 'da' ? /^sporbar-indsigt-\d{4}-\d{2}-\d{2}\.pdf$/ : /^sporbar-report-\d{4}-\d{2}-\d{2}\.pdf$/);
      const pdfPath = join(dir, 'copy.pdf');
      await pdfDownload.saveAs(pdfPath);
      // -raw: the text in the order it was drawn, so a table cell's words stay together.
      const text = execFileSync('pdftotext', ['-raw', pdfPath, '-']).toString();
      const flat = text.replace(/\s+/g, ' ');
      expect(flat).toContain(lang === 'da' ? 'Hvem har modtaget mine oplysninger – og hvorfor?' : 'Who received my data – and why?');
      expect(flat).toContain(lang === 'da' ? `${rich.total} videregivelser til` : `${rich.total} disclosures to`);
      expect(flat).toContain(lang === 'da' ? `Slettet den ${longDate(today, 'da')}` : `Erased on ${longDate(today, 'en')}`);
      expect(flat).toContain('198.51.100.23');
      expect(flat).toContain(names(lang).recipient('akamai-denmark'));
      expect(flat).toMatch(lang === 'da' ? /Side 1 af \d+/ : /Page 1 of \d+/);
      expect(codesIn(flat, registerFiles)).toEqual([]);
      execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdfPath, `${ARTIFACTS}citizen-copy-${lang}`]);

      const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: lang === 'da' ? 'Hent som JSON (til andre programmer)' : 'Download as JSON (for other programs)' }).click()]);
      const jsonPath = join(dir, 'copy.json');
      await jsonDownload.saveAs(jsonPath);
      const copy = JSON.parse(readFileSync(jsonPath, 'utf8')) as { format: string; lang: string; disclosures: Array<{ eventId: string }>; words: { lang: string; disclosures: unknown[] } };
      expect(copy.format).toBe('sporbar-report-copy/1');
      expect(copy.lang).toBe(lang);
      expect(copy.disclosures).toHaveLength(rich.total);
      expect(copy.disclosures.map((d) => d.eventId)).toEqual(expect.arrayContaining(Object.values(rich.ids)));
      expect(copy.words.disclosures).toHaveLength(rich.total);
      expect(readFileSync(jsonPath, 'utf8')).not.toContain(CITIZEN_CPR);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('signs out: the session is gone and the report sends the browser back to the sign-in page', async () => {
    await page.goto(`${base}/v1/me/report?lang=da`);
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(`${base}/`);
    expect((await context.cookies()).find((c) => c.name === '__Host-sporbar-session')).toBeUndefined();
    await page.goto(`${base}/v1/me/report?lang=da`);
    expect(page.url()).toBe(`${base}/`);
    expect(errors).toEqual([]);
  });
});
