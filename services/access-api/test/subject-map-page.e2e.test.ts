import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticHelmetHeaders } from '../src/security-headers.ts';
import type { SubjectMapCommitted } from '@sporbar/schemas';
import { alteredBundles, buildSubjectMapBundle, cloneBundle, pseudonymOf, sharedCodec, type BuiltBundle } from '../../auditor/test/support/subject-map-bundle.ts';

/**
 * The citizen page's check that nothing about them was left out (public/verify.js, the subject map
 * section), run in a real browser (Debian's Chromium, playwright-core) against a small real HTTP
 * server: the page with `<section id="subject-map-check">`, verify.js, a real bundle (a real log,
 * subject map and cosigned checkpoint, built by the auditor's test builder), and the log's policy or
 * key, under the page's CSP. The real bundle says "Kontrolleret på denne enhed: alle 12 …" in
 * Danish and English; the omitted, padded and reordered variants, a bundle whose checkpoint is not
 * the log's, and a page that shows more or fewer disclosures than the bundle each say what is wrong,
 * in words, in both languages. The map's age is judged by the device's clock (set with Playwright's
 * clock): older than 7 hours or dated ahead is refused in a sentence of its own; a fresh one says as of when.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM) && process.env['CI'] === 'true') throw new Error(`Chromium missing at ${CHROMIUM} under CI=true`);
const VERIFY_JS = readFileSync(new URL('../public/verify.js', import.meta.url));

/** 2026-12-07 11:49:30 UTC. */
const T = Date.UTC(2026, 11, 7, 11, 49, 30);
const MONTHS = {
  da: ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
/** A time as the page says it in Copenhagen (Node's own time-zone data, not the page's code). */
function copenhagen(ms: number, lang: 'da' | 'en'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const month = MONTHS[lang][Number(parts['month']) - 1];
  return lang === 'da' ? `${Number(parts['day'])}. ${month} ${parts['year']} kl. ${parts['hour']}.${parts['minute']}` : `${Number(parts['day'])} ${month} ${parts['year']} at ${parts['hour']}:${parts['minute']}`;
}

const A = pseudonymOf('anna');
const A2 = pseudonymOf('anna after a pseudonym-key rotation');
const others = ['bo', 'carl', 'dorte', 'ejnar'].map(pseudonymOf);

/** A log of 1,234 entries under the map: Anna's 12 disclosures spread among others' and earlier commitments; 1 after the map, 1 not yet logged. */
function annasLog(): BuiltBundle {
  const covered: (string | null)[] = [];
  for (let i = 0; i < 1234; i++) covered.push(i % 100 === 37 && i < 1000 ? A : i % 250 === 249 ? null : others[i % others.length]!);
  covered[5] = A;
  covered[1233] = A;
  return buildSubjectMapBundle({ covered, after: [others[0]!, A], unlogged: 1, citizen: [A] });
}

describe.skipIf(!existsSync(CHROMIUM))('the citizen page checks that no disclosure about them is missing (headless Chromium)', () => {
  let built: BuiltBundle;
  /** Anna after a rotation: two pseudonyms, two map proofs (another log, so the server's policy follows `log`). */
  let rotated: BuiltBundle;
  let log: BuiltBundle;
  /** A small log whose map was committed at T (another log: the server's policy follows `log`). */
  let timed: BuiltBundle;
  let browser: Browser;
  let server: Server;
  let base: string;
  /** What the server answers for /v1/me/subject-map?v=<name>. */
  const bundles = new Map<string, unknown>();
  let withPolicy = true;

  beforeAll(async () => {
    built = annasLog();
    const { omit, extra, reorder } = alteredBundles(built);
    bundles.set('good', built.bundle);
    bundles.set('omit', omit);
    bundles.set('extra', extra);
    bundles.set('reorder', reorder);
    const badSig = cloneBundle(built.bundle);
    badSig.checkpoint = badSig.checkpoint.replace(`${built.treeSize + 3}\n`, `${built.treeSize + 2}\n`);
    bundles.set('bad-signature', badSig);
    // Another subject's disclosure in place of Anna's 4th, in log order: as many, not the same.
    const substituted = cloneBundle(built.bundle);
    const leaves = substituted.subjects[0]!.leaves;
    const between = built.disclosures.find((d) => d.pseudonym !== A && d.leafIndex! > leaves[2]!.leafIndex && d.leafIndex! < leaves[4]!.leafIndex)!;
    leaves[3] = built.leafOf(between.eventId);
    bundles.set('substituted', substituted);
    rotated = buildSubjectMapBundle({ covered: [A, others[0]!, A2, A, others[1]!, A2, A2], after: [A2], citizen: [A, A2] });
    bundles.set('rotated', rotated.bundle);
    const gap = cloneBundle(rotated.bundle);
    gap.subjects[1]!.leaves.splice(2, 1);
    bundles.set('rotated-gap', gap);
    timed = buildSubjectMapBundle({ covered: [A, others[0]!, A], citizen: [A], committedAt: T * 1000 });
    bundles.set('timed', timed.bundle);
    const redated = cloneBundle(timed.bundle);
    const e = sharedCodec.decode(Buffer.from(redated.commitment.event, 'base64')).event as SubjectMapCommitted;
    redated.commitment.event = sharedCodec.encode('SubjectMapCommitted', { ...e, occurredAt: (T + 8 * 3600_000) * 1000 }).toString('base64');
    bundles.set('redated', redated);
    log = built;
    const headers = await staticHelmetHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'] } } });
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      const send = (status: number, type: string, body: string | Buffer) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (url.pathname === '/page') {
        const lang = url.searchParams.get('lang') === 'en' ? 'en' : 'da';
        const total = url.searchParams.get('total') ?? String(log.listed.length);
        const v = url.searchParams.get('v') ?? 'good';
        return send(
          200,
          'text/html; charset=utf-8',
          `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Sporbar</title><script src="/verify.js" defer></script></head><body><main>` +
            `<section id="subject-map-check" data-url="/v1/me/subject-map?v=${v}" data-total="${total}"><h2>Mangler der noget?</h2><p role="status" aria-live="polite"></p></section></main></body></html>`,
        );
      }
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      if (url.pathname === '/verify.js') return send(200, 'text/javascript; charset=utf-8', VERIFY_JS);
      if (url.pathname === '/v1/me/subject-map') {
        const b = bundles.get(url.searchParams.get('v') ?? '');
        return b === undefined ? send(404, 'application/json', '{}') : send(200, 'application/json; charset=utf-8', JSON.stringify(b));
      }
      if (url.pathname === '/v1/log/policy') return withPolicy ? send(200, 'text/plain; charset=utf-8', log.policy) : send(404, 'application/json', '{}');
      if (url.pathname === '/v1/log/key') return send(200, 'application/json', JSON.stringify({ verifierKey: log.vkey }));
      return send(404, 'text/plain', 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** Opens the page (in Copenhagen's time zone; with the device clock at `now` when given) and waits for the check's result: its state and words. */
  async function result(query: string, now?: number): Promise<{ state: string | null; text: string | null; errors: string[] }> {
    const page = await browser.newPage({ timezoneId: 'Europe/Copenhagen' });
    if (now !== undefined) await page.clock.setFixedTime(now);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/page?${query}`);
    const status = page.locator('#subject-map-check [role="status"]');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 20_000 }).not.toBe('checking');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 20_000 }).not.toBeNull();
    const out = { state: await status.getAttribute('data-state'), text: await status.textContent(), errors };
    await page.close();
    return out;
  }

  it('the real bundle: checked on this device, all 12 up to entry 1,234, the newer ones named — in Danish and English', async () => {
    expect(built.treeSize).toBe(1234);
    expect(built.bundle.subjects[0]!.leaves).toHaveLength(12);
    expect(built.listed).toHaveLength(14);
    const at = built.committedAt / 1000;
    const da = await result('lang=da&v=good');
    expect(da).toEqual({
      state: 'ok',
      text: `Kontrolleret på denne enhed: alle 12 videregivelser om dig til og med post 1.234 i loggen er med – ingen mangler, ingen er tilføjet. Listen er fuldstændig pr. ${copenhagen(at, 'da')}. 2 nyere videregivelser er endnu ikke med i kontrollen.`,
      errors: [],
    });
    const en = await result('lang=en&v=good');
    expect(en).toEqual({
      state: 'ok',
      text: `Checked on this device: all 12 disclosures about you up to entry 1,234 of the log are here — none missing, none added. The list is complete as of ${copenhagen(at, 'en')}. 2 newer disclosures are not yet covered by the check.`,
      errors: [],
    });
  });

  it('a log without witnesses: the log key alone (quorum none) checks the same bundle', async () => {
    withPolicy = false;
    try {
      expect(await result('lang=en&v=good')).toMatchObject({ state: 'ok', text: /^Checked on this device: all 12 disclosures/ });
    } finally {
      withPolicy = true;
    }
  });

  it.each([
    ['omit', 'Listen over dine videregivelser holder ikke: 1 videregivelse mangler på listen.', 'The list of your disclosures does not check out: 1 disclosure is missing from the list.'],
    ['extra', 'Listen over dine videregivelser holder ikke: 1 videregivelse på listen handler ikke om dig.', 'The list of your disclosures does not check out: 1 disclosure in the list is not about you.'],
    ['reorder', 'Listen over dine videregivelser holder ikke: listen er ikke i loggens rækkefølge.', "The list of your disclosures does not check out: the list is not in the log's order."],
    ['bad-signature', 'Listen over dine videregivelser holder ikke: loggens underskrift passer ikke.', "The list of your disclosures does not check out: the log's signature does not match."],
  ])('the %s variant fails, in words, in both languages', async (variant, da, en) => {
    expect(await result(`lang=da&v=${variant}`)).toEqual({ state: 'failed', text: da, errors: [] });
    expect(await result(`lang=en&v=${variant}`)).toEqual({ state: 'failed', text: en, errors: [] });
  });

  it('the substituted variant (as many, in order, not the same) fails, in both languages', async () => {
    expect(await result('lang=da&v=substituted')).toEqual({ state: 'failed', text: 'Listen over dine videregivelser holder ikke: listen har det rigtige antal, men ikke de samme videregivelser som loggen.', errors: [] });
    expect(await result('lang=en&v=substituted')).toEqual({ state: 'failed', text: 'The list of your disclosures does not check out: the list has the right number, but not the same disclosures as the log.', errors: [] });
  });

  it('after a pseudonym-key rotation: both pseudonyms\' lists check out together; a gap in the second is found', async () => {
    log = rotated;
    try {
      expect(rotated.listed).toHaveLength(6);
      expect(await result('lang=da&v=rotated')).toEqual({
        state: 'ok',
        text: `Kontrolleret på denne enhed: alle 5 videregivelser om dig til og med post 7 i loggen er med – ingen mangler, ingen er tilføjet. Listen er fuldstændig pr. ${copenhagen(rotated.committedAt / 1000, 'da')}. 1 nyere videregivelse er endnu ikke med i kontrollen.`,
        errors: [],
      });
      expect(await result('lang=en&v=rotated-gap')).toMatchObject({ state: 'failed', text: 'The list of your disclosures does not check out: 1 disclosure is missing from the list.' });
      expect(await result('lang=da&v=rotated-gap')).toMatchObject({ state: 'failed', text: 'Listen over dine videregivelser holder ikke: 1 videregivelse mangler på listen.' });
    } finally {
      log = built;
    }
  });

  it('a page that lists more or fewer disclosures than the bundle holds: said, in both languages', async () => {
    const n = built.listed.length;
    expect(await result(`lang=da&total=${n + 1}`)).toMatchObject({ state: 'failed', text: 'Listen over dine videregivelser holder ikke: siden viser 1 videregivelse, som ikke er med i kontrollen.' });
    expect(await result(`lang=en&total=${n - 2}`)).toMatchObject({ state: 'failed', text: 'The list of your disclosures does not check out: 2 disclosures are missing from the page.' });
  });

  it("the map's age by the device's clock: too old (over 7 h) or dated ahead is said in a sentence of its own; fresh shows its time — in both languages", async () => {
    // Anna's log committed at 2026-12-07 11:49:30 UTC (12:49 in Copenhagen); the device clock is set around it.
    log = timed;
    const HOUR = 3600_000;
    try {
      const old = T + 8 * HOUR;
      expect(await result('lang=da&v=timed', old)).toEqual({ state: 'failed', text: 'Beviset er fra 7. december 2026 kl. 12.49 – for gammelt til at vise, at intet nyere mangler.', errors: [] });
      expect(await result('lang=en&v=timed', old)).toEqual({ state: 'failed', text: 'The proof is from 7 December 2026 at 12:49 – too old to show that nothing newer is missing.', errors: [] });
      // Just inside the 7 hours: fine, with the time in words.
      expect(await result('lang=da&v=timed', T + 7 * HOUR - 60_000)).toEqual({
        state: 'ok',
        text: 'Kontrolleret på denne enhed: alle 2 videregivelser om dig til og med post 3 i loggen er med – ingen mangler, ingen er tilføjet. Listen er fuldstændig pr. 7. december 2026 kl. 12.49.',
        errors: [],
      });
      expect(await result('lang=en&v=timed', T + HOUR)).toEqual({
        state: 'ok',
        text: 'Checked on this device: all 2 disclosures about you up to entry 3 of the log are here — none missing, none added. The list is complete as of 7 December 2026 at 12:49.',
        errors: [],
      });
      // A device clock an hour behind the map's time.
      expect(await result('lang=da&v=timed', T - HOUR)).toEqual({ state: 'failed', text: 'Beviset er dateret 7. december 2026 kl. 12.49, senere end denne enheds ur – kontrollér, at uret går rigtigt.', errors: [] });
      expect(await result('lang=en&v=timed', T - HOUR)).toEqual({ state: 'failed', text: "The proof is dated 7 December 2026 at 12:49, later than this device's clock – check that the clock is right.", errors: [] });
      // The same bundle with its commitment re-dated to look fresh: no longer the log's leaf.
      expect(await result('lang=en&v=redated', old)).toMatchObject({ state: 'failed', text: "The list of your disclosures does not check out: the log's list of your disclosures is not in the log." });
    } finally {
      log = built;
    }
  });

  it('no map yet (404): said plainly, no failure', async () => {
    expect(await result('lang=da&v=none')).toMatchObject({ state: 'pending', text: 'Loggen har endnu ingen fortegnelse over dine videregivelser; prøv igen senere.' });
  });
});

describe('verify.js reads exactly the schemas the log writes', () => {
  it("its fingerprints are the catalogue's DisclosureRecorded and SubjectMapCommitted versions", () => {
    const js = VERIFY_JS.toString('utf8');
    const listed = (type: string) => JSON.parse(`[${new RegExp(`${type}: \\[([^\\]]*)\\]`).exec(js)![1]!.replaceAll("'", '"')}]`) as string[];
    const hexOf = (fp: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(fp);
      return b.toString('hex');
    };
    for (const type of ['DisclosureRecorded', 'SubjectMapCommitted'] as const) {
      expect(listed(type).sort()).toEqual(sharedCodec.catalogue.versions(type).map((v) => hexOf(v.fingerprint)).sort());
    }
  });
});
