import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTlogProof, parseNote, parseTlogProof } from '@sporbar/auditor/note';
import { bearer } from './helpers.ts';
import { CPR_MINE, startProofSystem, type ProofSystem } from './proof-system.ts';

/**
 * The citizen page checks its own proofs in a real browser (Debian's Chromium, playwright-core):
 * WebCrypto Ed25519 for the log's signature and the two witnesses' cosignatures, the quorum of the
 * policy the API serves, the inclusion path in page script (public/verify.js). Real proofs from the
 * real route say "checked on this device" with the witnesses' names; proofs altered on their way
 * (page.route: a byte of the entry, a proof hash, the log's signature, a witness's cosignature) say
 * they do not check out, and why. axe-core finds no WCAG 2.1 A/AA violation with the results shown.
 * Screenshots (desktop, 360 px) go to test-artifacts/ at the repository root.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
if (!existsSync(CHROMIUM) && process.env['CI'] === 'true') throw new Error(`Chromium missing at ${CHROMIUM} under CI=true`);

describe.skipIf(!existsSync(CHROMIUM))('the citizen page checks its proofs on the device (headless Chromium)', () => {
  let sys: ProofSystem;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    sys = await startProofSystem({ count: 4 });
    base = await sys.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sys?.close();
  });

  /** The development sign-in (the API runs with SPORBAR_ENV=development and no OIDC issuer): a session cookie, no token in the page. */
  async function signIn(page: Page, lang: 'da' | 'en') {
    await page.goto(`${base}/`);
    await page.locator(`#cpr-${lang}`).fill(CPR_MINE);
    await page.getByRole('button', { name: lang === 'da' ? 'Log ind (udvikling)' : 'Sign in (development)' }).click();
    await page.locator('#timeline').waitFor();
  }

  /** Waits until no disclosure is still being checked; returns each one's event id, state and words. */
  async function results(page: Page) {
    await expect.poll(() => page.locator('.proof-status[data-state="checking"], .proof-status:not([data-state])').count(), { timeout: 20_000 }).toBe(0);
    return page.locator('.proof').evaluateAll((items) =>
      items.map((i) => ({ id: i.getAttribute('data-event-id'), state: i.querySelector('.proof-status')!.getAttribute('data-state'), text: i.querySelector('.proof-status')!.textContent, live: i.querySelector('.proof-status')!.getAttribute('aria-live') })),
    );
  }

  async function axe(page: Page) {
    await page.evaluate(AXE);
    // Run in the page as a string: the page's globals (axe, document) are not Node's.
    const violations = (await page.evaluate(
      "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.length })))",
    )) as Array<{ id: string; nodes: number }>;
    return violations;
  }

  it('real proofs: "Kontrolleret på denne enhed", the checkpoint size and both witnesses by name; axe finds nothing; the download is the proof', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, 'da');
    const shown = await results(page);
    expect(shown.map((r) => r.id).sort()).toEqual([...sys.mine].sort());
    const size = sys.log.latestCheckpoint()!.treeSize;
    for (const r of shown) {
      expect(r.state).toBe('ok');
      expect(r.live).toBe('polite');
      expect(r.text).toBe(`Kontrolleret på denne enhed: i loggen (kontrolpunkt med ${size} poster), bekræftet af datatilsynet og rigsrevisionen`);
    }
    expect(await axe(page)).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}citizen-proofs-desktop.png`, fullPage: true });

    // "Hent bevis" saves the same file the API answers.
    // Each disclosure is a <details>: open it to reach its proof link.
    await page.locator(`li.disclosure:has(.proof[data-event-id="${sys.mine[0]}"]) summary`).click();
    const link = page.locator(`.proof[data-event-id="${sys.mine[0]}"] a.proof-download`);
    expect(await link.innerText()).toBe('Hent bevis');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(`sporbar-${sys.mine[0]}.tlog-proof`);
    const saved = readFileSync((await download.path())!, 'utf8');
    const served = await sys.app.inject({ method: 'GET', url: `/v1/me/disclosures/${sys.mine[0]}/proof`, headers: bearer(sys.tokenMine) });
    expect(saved).toBe(served.body);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('at 360 px, in English: "Checked on this device … confirmed by datatilsynet and rigsrevisionen", no horizontal scrolling, axe finds nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 780 } });
    await signIn(page, 'en');
    const shown = await results(page);
    for (const r of shown) expect(r.text).toMatch(/^Checked on this device: in the log \(checkpoint of \d+ entries\), confirmed by datatilsynet and rigsrevisionen$/);
    // Open the first disclosure (a <details>): its body (details, judged-by line, proof) must fit 360 px too.
    await page.locator('li.disclosure summary').first().click();
    expect(await page.locator('.proof a.proof-download').first().innerText()).toBe('Download proof');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}citizen-proofs-360.png`, fullPage: true });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it('proofs altered on their way (entry byte, a proof hash, the log signature, a witness cosignature) each say they do not check out, and why', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const flip = (b: Buffer, at: number) => {
      const c = Buffer.from(b);
      c[at]! ^= 0x01;
      return c;
    };
    /** How each of the four disclosures' proof is altered. */
    const alter: Record<string, (text: string) => string> = {
      [sys.mine[0]!]: (text) => {
        const p = parseTlogProof(text);
        return formatTlogProof({ ...p, extra: flip(p.extra!, p.extra!.length - 1) });
      },
      [sys.mine[1]!]: (text) => {
        const p = parseTlogProof(text);
        return formatTlogProof({ ...p, proof: p.proof.map((h, i) => (i === p.proof.length - 1 ? flip(h, 31) : h)) });
      },
      [sys.mine[2]!]: (text) => signatureFlipped(text, (name) => name.startsWith('sporbar.v1/')),
      [sys.mine[3]!]: (text) => signatureFlipped(text, (name) => name === 'rigsrevisionen'),
    };
    await page.route('**/v1/me/disclosures/*/proof', async (route) => {
      const response = await route.fetch();
      const id = /disclosures\/([^/]+)\/proof/.exec(route.request().url())![1]!;
      await route.fulfill({ response, body: alter[id]!(await response.text()) });
    });
    await signIn(page, 'da');
    const shown = new Map((await results(page)).map((r) => [r.id, r]));
    const said = (id: string) => shown.get(id)!;
    for (const id of sys.mine) expect(said(id).state).toBe('failed');
    expect(said(sys.mine[0]!).text).toBe('Beviset holder ikke: videregivelsen står ikke i loggen der, hvor beviset siger.');
    expect(said(sys.mine[1]!).text).toBe('Beviset holder ikke: videregivelsen står ikke i loggen der, hvor beviset siger.');
    expect(said(sys.mine[2]!).text).toBe('Beviset holder ikke: loggens underskrift passer ikke.');
    expect(said(sys.mine[3]!).text).toBe('Beviset holder ikke: for få uafhængige vidner har bekræftet det (kun datatilsynet); der kræves 2 af datatilsynet og rigsrevisionen.');
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}citizen-proofs-tampered.png`, fullPage: true });
    await page.close();
  });
});

/** The proof with one byte of the Ed25519 signature of the first signature line whose name matches changed. */
function signatureFlipped(text: string, which: (name: string) => boolean): string {
  const p = parseTlogProof(text);
  const note = parseNote(p.checkpoint);
  const lines = p.checkpoint.slice(note.text.length + 1).split('\n').filter(Boolean);
  const at = lines.findIndex((l) => which(l.split(' ')[1]!));
  const [dash, name, b64] = lines[at]!.split(' ');
  const sig = Buffer.from(b64!, 'base64');
  sig[sig.length - 10]! ^= 0x01;
  lines[at] = `${dash} ${name} ${sig.toString('base64')}`;
  return formatTlogProof({ ...p, checkpoint: `${note.text}\n${lines.join('\n')}\n` });
}
