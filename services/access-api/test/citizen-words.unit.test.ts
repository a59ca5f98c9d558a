import { describe, expect, it } from 'vitest';
import { register, registerFiles } from '@sporbar/schemas';
import { codesIn, otherLanguageTexts, registerCodes } from './support/plain-words.ts';
import type { RecipientSummary } from '@sporbar/projections';
import { buildArt15Report } from '../src/art15-report.ts';
import { buildDisclosureReport } from '../src/report.ts';
import { citizenView } from '../src/citizen-view.ts';
import { renderCitizenReport, type TimelineItem } from '../src/html/citizen-report.ts';

/**
 * The citizen page for a rich subject — MitID and NemKonto, several recipients, one disclosure the notice
 * does not cover, one made without the consent it needed, a withdrawn consent, erased details, a
 * third-country transfer — in both languages: no register id, slug or code in the visible text, and no
 * English register text on the Danish page.
 */
const SUBJECT = 'psn_rich';
const NOW = new Date('2026-09-20T10:00:00Z');
const JUDGED = (notice: string) => {
  const v = registerFiles.versions.find((x) => x.file.notice === notice)!;
  return { notice, version: v.file.version, sha256: v.sha256 };
};
let n = 0;
const item = (over: Partial<TimelineItem> & Pick<TimelineItem, 'activity' | 'recipientId' | 'recipientRole' | 'purpose' | 'occurredAt'>): TimelineItem => ({
  eventId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  subject: SUBJECT,
  legalBases: ['GDPR_ART6_1_E'],
  dataCategories: ['name'],
  transfer: null,
  classification: 'declared',
  reasons: [],
  position: String(n),
  judgedBy: JUDGED(over.activity.startsWith('mitid') ? 'mitid' : 'nemkonto'),
  details: null,
  ...over,
});

const timeline: TimelineItem[] = [
  item({ activity: 'mitid-core', recipientId: 'nets-danid', recipientRole: 'PROCESSOR', purpose: 'mitid-issuance-administration-use', occurredAt: '2026-03-02T09:15:00.000Z',
    legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E', 'DPA_S11_1'], dataCategories: ['name', 'cpr-number'], transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } }),
  item({ activity: 'mitid-core', recipientId: 'akamai-denmark', recipientRole: 'CONTROLLER', purpose: 'mitid-traffic-security-analysis', occurredAt: '2026-04-10T12:00:00.000Z',
    dataCategories: ['ip-address'], details: { status: 'erased', erasedAt: '2026-05-10T12:00:00.000Z', cause: 'RETENTION_EXPIRED' } }),
  item({ activity: 'mitid-core', recipientId: 'kmd', recipientRole: 'PROCESSOR', purpose: 'mitid-it-operations', occurredAt: '2026-04-11T08:00:00.000Z',
    classification: 'undeclared', reasons: ['RECIPIENT_NOT_DECLARED'] }),
  item({ activity: 'mitid-support', recipientId: 'danish-business-authority', recipientRole: 'PROCESSOR', purpose: 'mitid-support-satisfaction-survey', occurredAt: '2026-05-01T13:30:00.000Z',
    legalBases: ['GDPR_ART6_1_A'], dataCategories: ['phone-number', 'survey-comment'], details: { status: 'ok', values: { phoneNumber: '+45 20 00 00 02', surveyComment: 'Hurtig hjælp' } } }),
  item({ activity: 'nemkonto-support', recipientId: 'support-call-analysis-sub-processor', recipientRole: 'SUB_PROCESSOR', purpose: 'nemkonto-support-trend-analysis', occurredAt: '2026-06-01T10:00:00.000Z',
    legalBases: ['GDPR_ART6_1_A'], dataCategories: ['call-audio'], classification: 'undeclared', reasons: ['CONSENT_MISSING'] }),
  item({ activity: 'nemkonto-register', recipientId: 'citizens-bank', recipientRole: 'FINANCIAL_INSTITUTION', purpose: 'nemkonto-account-designation', occurredAt: '2026-07-01T07:00:00.000Z',
    legalBases: ['LBK_494_2023', 'BEK_647_2021'], dataCategories: ['bank-account-information'], transfer: { country: 'GB', safeguard: 'DATA_SUBJECT_REQUEST' },
    details: { status: 'ok', values: { accountNumber: '1234-5678901234', someOtherField: 'x' } } }),
  item({ activity: 'nemkonto-register', recipientId: 'danish-tax-authority', recipientRole: 'PUBLIC_AUTHORITY', purpose: 'nemkonto-debt-collection', occurredAt: '2026-08-01T07:00:00.000Z',
    legalBases: ['LBK_494_2023'], dataCategories: ['cpr-number'], details: { status: 'unreadable' } }),
].reverse();

const summaries: RecipientSummary[] = [...new Set(timeline.map((i) => i.recipientId))].map((id) => {
  const mine = timeline.filter((i) => i.recipientId === id);
  const u = <T,>(xs: T[]) => [...new Set(xs)];
  return {
    recipientId: id, recipientRole: mine[0]!.recipientRole, activities: u(mine.map((i) => i.activity)), purposes: u(mine.map((i) => i.purpose)),
    legalBases: u(mine.flatMap((i) => i.legalBases)), dataCategories: u(mine.flatMap((i) => i.dataCategories)), disclosures: mine.length,
    undeclared: mine.filter((i) => i.classification === 'undeclared').length, firstAt: mine.at(-1)!.occurredAt, lastAt: mine[0]!.occurredAt,
  };
});

const report = buildArt15Report(register, {
  disclosures: buildDisclosureReport(register, SUBJECT, summaries),
  transfers: [{ recipientId: 'nets-danid', country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES', disclosures: 1 }, { recipientId: 'citizens-bank', country: 'GB', safeguard: 'DATA_SUBJECT_REQUEST', disclosures: 1 }],
  consents: [
    { activity: 'mitid-support', scope: 'SATISFACTION_SURVEY', given: true, since: '2026-05-01T13:00:00.000Z' },
    { activity: 'nemkonto-support', scope: 'CALL_ANALYSIS', given: false, since: '2026-05-20T09:00:00.000Z' },
  ],
  retention: [
    { activity: 'mitid-core', ruleId: 'mitid-verification-1-day', deadline: '2026-04-11T12:00:00.000Z', done: true },
    { activity: 'mitid-support', ruleId: 'mitid-support-survey-phone-number-90-days', deadline: '2026-07-30T13:30:00.000Z', done: false },
    { activity: 'nemkonto-register', ruleId: 'nemkonto-account-end-of-year-plus-10', deadline: '2037-01-01T00:00:00.000Z', done: false },
  ],
}, NOW);

const page = (lang: 'da' | 'en') => renderCitizenReport(report, timeline, { lang, filters: { recipient: 'nets-danid', from: '2026-01-01' }, proofs: true, registerFiles, now: NOW });

/** The text a person sees: no tags (so no attribute values), no comments or scripts, entities decoded. */
const visibleText = (html: string): string =>
  html.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');

describe('the citizen page speaks plain words, never codes', () => {
  const codes = registerCodes(registerFiles, [...timeline.flatMap((i) => [i.purpose, i.activity, i.recipientId, ...i.reasons]), 'someOtherField']);
  it.each(['da', 'en'] as const)('%s: no register id, slug or code appears as a word in the visible text', (lang) => {
    expect(codes.length).toBeGreaterThan(150);
    expect(codesIn(visibleText(page(lang)), registerFiles, codes)).toEqual([]);
  });

  it('no English register text on the Danish page', () => {
    expect(otherLanguageTexts(visibleText(page('da')), registerFiles, 'da')).toEqual([]);
    // ...and the English page has its own words, not the Danish ones.
    expect(otherLanguageTexts(visibleText(page('en')), registerFiles, 'en')).toEqual([]);
  });

  it('the page: summary first with the chart insertion point under it, the proof markup as before, accessible structure', () => {
    const html = renderCitizenReport(report, timeline, { lang: 'da', filters: {}, proofs: true, registerFiles, now: NOW, chartSvg: '<svg role="img" aria-label="x"></svg>' });
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toContain('<html lang="da">');
    const summary = html.indexOf('7 videregivelser til 7 modtagere siden 2. marts 2026.');
    const chart = html.indexOf('<div id="timeline-chart"><svg role="img" aria-label="x"></svg></div>');
    expect(summary).toBeGreaterThan(0);
    expect(chart).toBeGreaterThan(summary);
    expect(chart).toBeLessThan(html.indexOf('<table'));
    expect(html).toContain('<form id="sign-out" class="sign-out" method="post" action="/auth/logout"><button type="submit">Log ud</button></form>');
    expect(html).toContain('<script src="/verify.js" defer></script>');
    expect(html).toContain(`<div class="proof" data-event-id="${timeline[0]!.eventId}"><a class="proof-download" href="/v1/me/disclosures/${timeline[0]!.eventId}/proof" download="sporbar-${timeline[0]!.eventId}.tlog-proof">Hent bevis</a> <span class="proof-status" aria-live="polite"></span></div>`);
    expect(html.match(/<li class="disclosure[^"]*"><details>/g)).toHaveLength(7);
    expect(page('da')).toContain('href="?lang=en&amp;recipient=nets-danid&amp;from=2026-01-01" hreflang="en" lang="en"');
    expect(html).not.toMatch(/ style=|<style/);
    // Headings never skip a level.
    const levels = [...html.matchAll(/<h([1-6])/g)].map((m) => Number(m[1]));
    levels.forEach((l, i) => { if (i > 0) expect(l).toBeLessThanOrEqual(levels[i - 1]! + 1); });
    // Every table has a caption and scoped headers.
    expect(html.match(/<table/g)!.length).toBe(html.match(/<caption>/g)!.length);
    expect(html).not.toMatch(/<th>/);
  });
});

describe('the citizen view (Art. 15)', () => {
  const da = citizenView(report, timeline, registerFiles, 'da', NOW);
  const en = citizenView(report, timeline, registerFiles, 'en', NOW);
  const sectionText = (v: typeof da, id: string) => JSON.stringify(v.sections.find((s) => s.id === id));

  it('has Art. 15(1)(a)–(h) and 15(2), each with a heading and the provision in words', () => {
    expect(da.sections.map((s) => s.article)).toEqual(expect.arrayContaining(['15(1)(a)', '15(1)(b)', '15(1)(c)', '15(1)(d)', '15(1)(e)', '15(1)(f)', '15(1)(g)', '15(1)(h)', '15(2)']));
    expect(da.sections.find((s) => s.article === '15(1)(a)')!.articleText).toBe('Databeskyttelsesforordningens artikel 15, stk. 1, litra a');
    expect(en.sections.find((s) => s.article === '15(2)')!.articleText).toBe('GDPR Article 15(2)');
    expect(JSON.parse(JSON.stringify(da))).toEqual(da); // serialisable as it is
  });

  it('says plainly that the notices say nothing about automated decisions', () => {
    expect(sectionText(da, 'automated')).toContain('Privatlivspolitikken siger intet om automatiske afgørelser, herunder profilering.');
    expect(sectionText(en, 'automated')).toContain('The privacy notice says nothing about automated decisions, including profiling.');
  });

  it("gives the citizen's own deadlines: deleted on, or to be deleted by", () => {
    const retention = sectionText(da, 'retention');
    expect(retention).toContain('Slettet den 11. april 2026');
    expect(retention).toContain('Slettes senest 30. juli 2026');
    expect(retention).toContain('Slettes senest 1. januar 2037');
    expect(sectionText(en, 'retention')).toContain('To be deleted by 30 July 2026');
  });

  it('shows what was erased, in words and with the date', () => {
    const erased = da.disclosures.find((d) => d.recipient === 'Akamai Technologies Denmark ApS')!;
    expect(erased.details).toMatchObject({ status: 'erased', text: 'Slettet den 10. maj 2026' });
    expect(sectionText(da, 'deleted')).toContain('blev slettet den 10. maj 2026');
    expect(en.disclosures.find((d) => d.details.status === 'erased')!.details).toMatchObject({ text: 'Erased on 10 May 2026' });
    expect(da.disclosures.find((d) => d.details.status === 'ok' && d.details.fields.some((f) => f.value === '+45 20 00 00 02'))!.details).toEqual({
      status: 'ok', fields: [{ label: 'Telefonnummer', value: '+45 20 00 00 02' }, { label: 'Din kommentar i tilfredshedsundersøgelsen', value: 'Hurtig hjælp' }],
    });
  });

  it('flags and explains the undeclared and the consent-missing disclosures', () => {
    const consent = da.disclosures.find((d) => d.covered === 'consent-missing')!;
    expect(consent).toMatchObject({ flagged: true, coveredText: 'Uden dit samtykke', reasons: ['Denne videregivelse kræver dit samtykke, og dit samtykke var ikke givet (eller var trukket tilbage) på det tidspunkt.'] });
    const undeclared = en.disclosures.find((d) => d.covered === 'undeclared')!;
    expect(undeclared).toMatchObject({ flagged: true, coveredText: 'Not covered by the privacy notice', reasons: ['The privacy notice does not name this recipient for this processing.'] });
    expect(da.disclosures.filter((d) => !d.flagged)).toHaveLength(5);
    expect(da.summary[1]).toBe('2 af dem er ikke dækket af privatlivspolitikken eller af dit samtykke. De er markeret nedenfor.');
  });

  it('names roles, rights, consents and transfers in words', () => {
    expect(da.disclosures.find((d) => d.recipient === 'Akamai Technologies Denmark ApS')!.role).toBe('Selvstændig dataansvarlig');
    const rights = sectionText(da, 'rights');
    for (const r of ['Ret til berigtigelse', 'Ret til sletning', 'Ret til begrænsning af behandling', 'Ret til indsigelse', 'Gælder ikke.', 'Digital Post til Digitaliseringsstyrelsen']) expect(rights).toContain(r);
    expect(sectionText(da, 'consents')).toContain('Trukket tilbage den 20. maj 2026');
    expect(sectionText(da, 'consents')).toContain('Analyse af dine optagede opkald');
    const transfers = sectionText(da, 'transfers');
    expect(transfers).toContain('i Grønland: Standardbestemmelser om databeskyttelse');
    expect(transfers).toContain('artikel 46, stk. 1, litra c');
    expect(sectionText(da, 'complaint')).toContain('Datatilsynet');
    expect(da.series.map((s) => [s.recipient, s.times.length])).toContainEqual(['Nets DanID A/S', 1]);
  });
});
