import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, registerFiles, registerWords } from '@sporbar/schemas';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/**
 * The citizen page in a real browser (Debian's Chromium driven by playwright-core): sign in with a
 * development sign-in (a fictional CPR number, a session cookie), see the expected recipients, filter, switch language. A screenshot is kept in
 * test-artifacts/ at the repository root.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
if (!existsSync(CHROMIUM) && process.env['CI'] === 'true') throw new Error(`Chromium missing at ${CHROMIUM} under CI=true`);

describe.skipIf(!existsSync(CHROMIUM))('citizen page in headless Chromium', () => {
  const cpr = '300690-1234';
  let system: EmbeddedSystem;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    system = await startEmbeddedSystem({});
    for (const activityId of ['mitid-core', 'nemkonto-register']) {
      const activity = register.activities.find((a) => a.id === activityId)!;
      for (const [i, f] of activity.flows.entries()) {
        await system.producer.recordDisclosure({
          subject: { cpr },
          activity: activity.id,
          recipient: { id: f.recipientId, role: f.roles[0] },
          purpose: f.purposeIds[0]!,
          legalBases: [...f.legalBases],
          dataCategories: [...f.categoryIds],
          occurredAt: new Date(Date.UTC(2026, 9, 1 + i, 9)),
        });
      }
    }
    await system.settle();
    base = await system.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await system?.close();
  });

  it('signs in with the development sign-in (a session cookie), shows the recipients, filters, and switches to English', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    // The development sign-in (npm start): a fictional CPR number, a server-side session, an HttpOnly cookie.
    await expect.poll(() => page.getByRole('note').first().innerText()).toMatch(/Udviklingslogin – ikke MitID/);
    await page.getByLabel(/Opdigtet CPR-nummer/).fill(cpr);
    await page.getByRole('button', { name: 'Log ind (udvikling)' }).click();

    await page.getByRole('heading', { level: 1, name: /Hvem har modtaget mine oplysninger/ }).waitFor();
    const table = page.locator('#recipients tbody tr');
    const ids = [...new Set(['mitid-core', 'nemkonto-register'].flatMap((a) => register.activities.find((x) => x.id === a)!.flows.map((f) => f.recipientId)))];
    // Each recipient by its Danish name from the register files (no ids on the page).
    const da = registerWords(registerFiles, 'da');
    const expected = new Set(ids.map((id) => da.recipient(id)));
    await expect.poll(() => table.count()).toBe(expected.size);
    const shown = await page.locator('#recipients tbody tr th[scope="row"]').allInnerTexts();
    expect(new Set(shown.map((s) => s.trim()))).toEqual(expected);
    await expect.poll(() => page.locator('#recipients').innerText()).toMatch(/Akamai Technologies Denmark ApS/);
    expect(await page.locator('#total').innerText()).toContain(`til ${expected.size} modtagere`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}citizen-page.png`, fullPage: true });

    // Filter the timeline to one recipient.
    await page.getByLabel('Modtager', { exact: true }).selectOption('akamai-denmark');
    await page.getByRole('button', { name: 'Vis' }).click();
    await expect.poll(async () => (await page.locator('#timeline li .recipient').allInnerTexts()).join('|')).toMatch(/^(Akamai Technologies Denmark ApS\|?)+$/);
    await page.screenshot({ path: `${ARTIFACTS}citizen-page-filtered.png`, fullPage: true });

    // English.
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: /Who received my data/ }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.content()).not.toContain(cpr.slice(0, 6));
    expect(errors).toEqual([]);
  });

  it('a number that is not a CPR number shows the error on the sign-in page, without repeating it', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel(/Fictional CPR number/).fill('329999-1234');
    await page.getByRole('button', { name: 'Sign in (development)' }).click();
    await expect.poll(() => page.locator('#error').innerText()).toMatch(/That is not a CPR number/);
    expect(await page.content()).not.toContain('329999');
  });
});
