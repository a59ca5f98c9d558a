/**
 * The citizen view: the GDPR Art. 15 report and the citizen's disclosures as plain display strings, in
 * Danish or English, structured by Art. 15 — (1)(a) purposes, (b) categories, (c) recipients, (d)
 * retention, (e) rights, (f) the right to complain, (g) sources, (h) automated decisions, 15(2) transfers
 * — plus consents, what was not covered, and what has been deleted. Every word for a register term
 * comes from the register files (`registerWords`); the frames of sentences from html/i18n.ts. No codes,
 * ids or slugs reach a string a citizen reads: ids appear only in fields a renderer uses as values
 * (`eventId` for the proof link, `recipientId` for the filter, `series[].recipientId`).
 *
 * Pure and serialisable (JSON.stringify-able): the HTML page renders it, a PDF can be made from it.
 */
import { judgedByText } from './judged-by.ts';
import { listOf, registerWords, type RegisterFiles, type RegisterWords } from '@sporbar/schemas';
import type { Art15Report } from './art15-report.ts';
import type { TimelineItem } from './html/citizen-report.ts';
import { REASON_TEXT, TEXT, type Lang } from './html/i18n.ts';

export type ViewBlock =
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  /** Term → description pairs (a right and whether it applies, a role and what it means). */
  | { readonly kind: 'definitions'; readonly items: ReadonlyArray<{ readonly term: string; readonly description: readonly string[] }> }
  | { readonly kind: 'table'; readonly table: ViewTable }
  | { readonly kind: 'subsection'; readonly heading: string; readonly blocks: readonly ViewBlock[] };

export interface ViewTable {
  readonly caption: string;
  readonly columns: readonly string[];
  /** Each row's first cell is its header (a `th scope="row"`). */
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** One section of the report, with the GDPR provision it answers (e.g. "15(1)(a)"). */
export interface ViewSection {
  readonly id: string;
  /** The GDPR provision, e.g. "15(1)(a)"; `articleText` says it in words. */
  readonly article: string;
  readonly articleText: string;
  readonly heading: string;
  readonly blocks: readonly ViewBlock[];
}

export type Covered = 'declared' | 'undeclared' | 'consent-missing';

export type DetailsWords =
  | { readonly status: 'none'; readonly text: string }
  | { readonly status: 'ok'; readonly fields: ReadonlyArray<{ readonly label: string; readonly value: string }> }
  | { readonly status: 'erased'; readonly erasedAt: string; readonly text: string; readonly note: string }
  | { readonly status: 'unreadable'; readonly text: string };

export interface DisclosureView {
  /** For the proof link and the on-device check (not shown as text). */
  readonly eventId: string;
  /** ISO instant (the `datetime` of a <time>). */
  readonly occurredAt: string;
  readonly when: string;
  readonly recipientId: string;
  readonly recipient: string;
  readonly role: string;
  readonly purpose: string;
  readonly activity: string;
  readonly categories: readonly string[];
  readonly legalBases: readonly string[];
  readonly covered: Covered;
  readonly coveredText: string;
  /** Whether it is flagged: not covered by the notice, or consent missing. */
  readonly flagged: boolean;
  /** Why it is flagged, in plain words (empty when it is not). */
  readonly reasons: readonly string[];
  readonly transfer?: string;
  readonly details: DetailsWords;
  readonly judgedBy?: string;
  /** The summary line: when, who, why. */
  readonly summary: string;
}

/** One recipient's disclosures for a timeline chart. */
export interface ViewSeries {
  readonly recipientId: string;
  readonly recipient: string;
  readonly times: readonly string[];
}

export interface CitizenView {
  readonly lang: Lang;
  readonly title: string;
  readonly intro: string;
  readonly summary: readonly string[];
  readonly generatedAt: string;
  readonly recipients: ViewTable;
  readonly recipientOptions: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  readonly disclosures: readonly DisclosureView[];
  readonly disclosuresText: string;
  readonly series: readonly ViewSeries[];
  readonly sections: readonly ViewSection[];
}

const ZONE = 'Europe/Copenhagen';
/** Sentences one after the other, each ending with its full stop. */
const sentences = (items: readonly string[]): string => items.map((x) => (/[.!?)]$/.test(x.trim()) ? x.trim() : `${x.trim()}.`)).join(' ');
const locale = (lang: Lang): string => (lang === 'da' ? 'da-DK' : 'en-GB');
/** "3. marts 2026" / "3 March 2026". */
export const longDate = (iso: string, lang: Lang): string => new Date(iso).toLocaleDateString(locale(lang), { day: 'numeric', month: 'long', year: 'numeric', timeZone: ZONE });
/** "3. marts 2026 kl. 14.05" / "3 March 2026 at 14:05". */
export const longTime = (iso: string, lang: Lang): string => new Date(iso).toLocaleString(locale(lang), { dateStyle: 'long', timeStyle: 'short', timeZone: ZONE });

const coveredOf = (item: Pick<TimelineItem, 'classification' | 'reasons'>): Covered =>
  item.classification !== 'undeclared' ? 'declared' : item.reasons.length > 0 && item.reasons.every((r) => r === 'CONSENT_MISSING') ? 'consent-missing' : 'undeclared';

const reasonWords = (code: string, lang: Lang): string => (REASON_TEXT[lang] as Record<string, string>)[code] ?? (lang === 'da' ? 'Videregivelsen passer ikke til privatlivspolitikken.' : 'The disclosure does not match the privacy notice.');

/** "15(1)(a)" → "Databeskyttelsesforordningens artikel 15, stk. 1, litra a" / "GDPR Article 15(1)(a)". */
export function articleWords(article: string, lang: Lang): string {
  if (lang === 'en') return `GDPR Article ${article}`;
  const m = /^(\d+)(?:\((\d+)\))?(?:\(([a-z])\))?$/.exec(article);
  if (m === null) return `Databeskyttelsesforordningens artikel ${article}`;
  return `Databeskyttelsesforordningens artikel ${m[1]}${m[2] ? `, stk. ${m[2]}` : ''}${m[3] ? `, litra ${m[3]}` : ''}`;
}

/** The right's order on the page: the ones Art. 15(1)(e) names first. */
const RIGHT_ORDER = ['rectification', 'erasure', 'restriction', 'objection', 'access', 'portability', 'withdraw-consent'];

export function citizenView(report: Art15Report, timeline: readonly TimelineItem[], files: RegisterFiles, lang: Lang, now: Date): CitizenView {
  const t = TEXT[lang];
  const w: RegisterWords = registerWords(files, lang);
  const day = (iso: string): string => longDate(iso, lang);
  const name = (id: string): string => w.recipient(id);

  // ----- the disclosures -----
  const disclosures: DisclosureView[] = timeline.map((e) => {
    const covered = coveredOf(e);
    const recipient = name(e.recipientId);
    const purpose = w.purpose(e.purpose);
    const when = longTime(e.occurredAt, lang);
    const d = e.details;
    const details: DetailsWords =
      d === null ? { status: 'none', text: t.noDetails }
        : d.status === 'ok' ? { status: 'ok', fields: Object.entries(d.values).map(([k, v]) => ({ label: w.detailField(k), value: v })) }
          : d.status === 'erased' ? { status: 'erased', erasedAt: d.erasedAt, text: t.erasedOn(day(d.erasedAt)), note: t.erasedText }
            : { status: 'unreadable', text: t.unreadable };
    return {
      eventId: e.eventId,
      occurredAt: e.occurredAt,
      when,
      recipientId: e.recipientId,
      recipient,
      role: w.role(e.recipientRole),
      purpose,
      activity: w.activity(e.activity),
      categories: e.dataCategories.map((c) => w.category(c)),
      legalBases: e.legalBases.map((b) => w.legalBasis(b)),
      covered,
      coveredText: covered === 'declared' ? t.declared : covered === 'consent-missing' ? t.consentMissing : t.undeclared,
      flagged: covered !== 'declared',
      reasons: covered === 'declared' ? [] : e.reasons.map((r) => reasonWords(r, lang)),
      ...(e.transfer ? { transfer: t.transfer(w.country(e.transfer.country), w.safeguard(e.transfer.safeguard)) } : {}),
      details,
      ...(e.judgedBy ? { judgedBy: judgedByText(e.judgedBy, files, lang) } : {}),
      summary: t.when(when, recipient, purpose),
    };
  });

  const series: ViewSeries[] = [];
  for (const d of [...disclosures].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))) {
    let s = series.find((x) => x.recipientId === d.recipientId) as { recipientId: string; recipient: string; times: string[] } | undefined;
    if (s === undefined) { s = { recipientId: d.recipientId, recipient: d.recipient, times: [] }; series.push(s); }
    s.times.push(d.occurredAt);
  }

  // ----- the summary -----
  const first = report.recipients.map((r) => r.firstAt).sort()[0];
  const flaggedTotal = report.recipients.reduce((n, r) => n + r.undeclared, 0);
  const summary = report.totalDisclosures === 0 || first === undefined
    ? [t.summaryNone]
    : [t.summary(report.totalDisclosures, report.recipients.length, day(first)), ...(flaggedTotal > 0 ? [t.summaryFlagged(flaggedTotal)] : [])];

  const recipients: ViewTable = {
    caption: t.recipientsCaption,
    columns: [t.recipient, t.role, t.purposes, t.legalBases, t.categories, t.count, t.period],
    rows: report.recipients.map((r) => [
      r.undeclared > 0 ? `${name(r.recipient.id)} (${t.flag}: ${r.undeclared} ${lang === 'da' ? 'ikke dækket' : 'not covered'})` : name(r.recipient.id),
      w.role(r.recipient.role),
      // Purposes are sentences (each ends with its full stop): one after the other, not joined by commas.
      sentences(r.purposes.map((p) => w.purpose(p.id))),
      listOf(r.legalBases.map((b) => w.legalBasis(b.id)), lang),
      listOf(r.dataCategories.map((c) => w.category(c.id)), lang),
      String(r.disclosures),
      `${day(r.firstAt)} – ${day(r.lastAt)}`,
    ]),
  };
  const recipientOptions = [...new Set(report.recipients.map((r) => r.recipient.id))].map((id) => ({ value: id, label: name(id) }));

  // ----- the Art. 15 sections -----
  const perNotice = (f: (n: Art15Report['notices'][number]) => ViewBlock[]): ViewBlock[] =>
    report.notices.length === 1 ? f(report.notices[0]!) : report.notices.map((n) => ({ kind: 'subsection', heading: w.noticeTitle(n.id), blocks: f(n) }));
  const perActivity = (n: Art15Report['notices'][number], f: (a: Art15Report['notices'][number]['activities'][number]) => ViewBlock[]): ViewBlock[] =>
    n.activities.map((a) => ({ kind: 'subsection', heading: w.activity(a.id), blocks: f(a) }));

  const sections: ViewSection[] = [];
  const push = (s: Omit<ViewSection, 'articleText'>): void => { sections.push({ ...s, articleText: articleWords(s.article, lang) }); };
  push({
    id: 'purposes', article: '15(1)(a)', heading: t.purposesH,
    blocks: [{ kind: 'paragraph', text: t.purposesIntro }, ...perNotice((n) => perActivity(n, (a) => [
      { kind: 'paragraph', text: w.activityText(a.id) },
      { kind: 'definitions', items: [
        { term: t.purposes, description: a.purposes.map((p) => w.purpose(p.id)) },
        { term: t.legalBases, description: a.legalBases.map((b) => w.legalBasis(b.id)) },
        { term: t.dataSubjects, description: w.dataSubjects(a.id) },
      ] },
    ]))],
  });
  push({
    id: 'categories', article: '15(1)(b)', heading: t.categoriesH,
    blocks: perNotice((n) => perActivity(n, (a) => [{ kind: 'list', items: a.dataCategories.map((c) => `${w.category(c.id)}: ${w.categoryText(c.id)}`) }])),
  });
  push({
    id: 'recipients', article: '15(1)(c)', heading: t.recipientsH,
    blocks: perNotice((n) => perActivity(n, (a) => [{
      kind: 'definitions',
      items: a.recipients.map((r) => ({
        term: `${name(r.id)}${r.cvr ? `, CVR ${r.cvr}` : ''}`,
        description: [`${w.role(r.role)}: ${w.roleText(r.role)}`, w.recipientText(r.id), ...(w.roleNote(r.id) ? [w.roleNote(r.id)!] : [])].filter((x) => x !== ''),
      })),
    }])),
  });

  const schedule = report.retentionSchedule;
  push({
    id: 'retention', article: '15(1)(d)', heading: t.retentionH,
    blocks: [
      { kind: 'subsection', heading: t.ownDeadlinesH, blocks: schedule.length === 0 ? [{ kind: 'paragraph', text: t.noOwnDeadlines }] : [{
        kind: 'table',
        table: {
          caption: t.ownDeadlinesCaption,
          columns: [t.activity, t.rule, t.status],
          rows: schedule.map((s) => [w.activity(s.activity), w.retention(s.ruleId).text, s.done ? t.deletedOn(day(s.deadline)) : t.deleteBy(day(s.deadline))]),
        },
      }] },
      { kind: 'subsection', heading: t.rulesH, blocks: perNotice((n) => perActivity(n, (a) => [{
        kind: 'list',
        items: a.retention.map((r) => {
          const words = w.retention(r.id);
          return [words.text, `(${words.period}${words.condition ? `; ${t.condition.toLowerCase()}: ${words.condition}` : ''}${words.startsAt ? `; ${t.startsAt.toLowerCase()}: ${words.startsAt}` : ''})`].join(' ');
        }),
      }])) },
    ],
  });

  push({
    id: 'rights', article: '15(1)(e)', heading: t.rightsH,
    blocks: perNotice((n) => {
      const rights = [...n.rights].sort((a, b) => RIGHT_ORDER.indexOf(a.right) - RIGHT_ORDER.indexOf(b.right));
      return [
        {
          kind: 'definitions',
          items: rights.map((r) => {
            const channels = w.rightChannels(r.id);
            const reason = w.rightReason(r.id);
            return {
              term: w.right(r.right),
              description: [
                w.rightText(r.right),
                r.status === 'applicable' ? t.applies : r.status === 'not-applicable' ? t.notApplicable : t.notStated,
                ...(reason ? [reason] : []),
                ...(channels.length > 0 && r.status !== 'not-stated' ? [`${t.how}: ${channels.join('; ')}.`] : []),
              ],
            };
          }),
        },
        { kind: 'paragraph', text: w.rightsCaveat(n.id) },
      ];
    }),
  });

  const authorities = [...new Map(report.notices.map((n) => [n.complaint.website, n.complaint])).values()];
  push({
    id: 'complaint', article: '15(1)(f)', heading: t.complaintH,
    blocks: authorities.map((a) => ({ kind: 'paragraph', text: t.complaintText(lang === 'da' ? a.authorityDa : a.authority, a.website) })),
  });
  push({
    id: 'sources', article: '15(1)(g)', heading: t.sourcesH,
    blocks: perNotice((n) => perActivity(n, (a) => [{ kind: 'list', items: a.sourcesOfData.map((s) => `${w.collectionSource(s.id)}: ${w.collectionSourceText(s.id)}`) }])),
  });
  push({
    id: 'automated', article: '15(1)(h)', heading: t.automatedH,
    blocks: perNotice((n) => [{ kind: 'paragraph', text: w.automatedDecisions(n.id).text }]),
  });

  push({
    id: 'transfers', article: '15(2)', heading: t.transfersH,
    blocks: [
      report.transfers.length === 0
        ? { kind: 'paragraph', text: t.noTransfers }
        : { kind: 'subsection', heading: t.yourTransfers, blocks: [{ kind: 'list', items: report.transfers.map((x) => t.transferLine(name(x.recipientId), w.country(x.country), w.safeguard(x.safeguard), x.disclosures)) }] },
      { kind: 'subsection', heading: t.rulesTransfers, blocks: perNotice((n) => {
        const rules = [...new Set(n.activities.flatMap((a) => a.thirdCountryTransfers.map((x) => x.id)))];
        return [
          { kind: 'paragraph', text: w.thirdCountryPolicy(n.id) },
          ...(rules.length === 0 ? [] : [{ kind: 'list' as const, items: rules.map((id) => { const r = w.thirdCountry(id); return `${r.countries}: ${r.safeguard} (${r.condition})`; }) }]),
        ];
      }) },
    ],
  });

  push({
    id: 'consents', article: '7(3)', heading: t.consentsH,
    blocks: report.consents.length === 0 ? [{ kind: 'paragraph', text: t.noConsents }] : [{
      kind: 'definitions',
      items: report.consents.map((c) => ({ term: w.consentScope(c.scope), description: [w.activity(c.activity), c.given ? t.consentGiven(day(c.since)) : t.consentWithdrawn(day(c.since))] })),
    }],
  });

  const flagged = disclosures.filter((d) => d.flagged);
  push({
    id: 'not-covered', article: '15(1)', heading: t.flaggedH,
    blocks: flagged.length === 0 ? [{ kind: 'paragraph', text: t.flaggedNone }] : [
      { kind: 'paragraph', text: t.flaggedIntro },
      { kind: 'definitions', items: flagged.map((d) => ({ term: `${d.summary} (${d.coveredText})`, description: d.reasons })) },
    ],
  });

  const erased = disclosures.filter((d) => d.details.status === 'erased');
  const deleted = schedule.filter((s) => s.done);
  push({
    id: 'deleted', article: '17', heading: t.erasedH,
    blocks: erased.length === 0 && deleted.length === 0 ? [{ kind: 'paragraph', text: t.noErased }] : [{
      kind: 'list',
      items: [
        ...erased.map((d) => t.erasedDetails(day((d.details as { erasedAt: string }).erasedAt), d.recipient)),
        ...deleted.map((s) => t.deletedRetention(w.activity(s.activity), `${w.retention(s.ruleId).text} ${t.deletedOn(day(s.deadline))}.`)),
      ],
    }],
  });

  push({
    id: 'controller', article: '13(1)(a)', heading: t.controllerH,
    blocks: report.notices.map((n) => ({
      kind: 'subsection',
      heading: report.notices.length === 1 ? t.controller : `${t.controller}: ${w.noticeTitle(n.id)}`,
      blocks: [
        { kind: 'paragraph', text: `${lang === 'da' ? n.controller.nameDa : n.controller.name}, CVR ${n.controller.cvr}, ${n.controller.address.street}, ${n.controller.address.postcode} ${n.controller.address.city}, ${n.controller.phone}, ${n.controller.email}` },
        { kind: 'paragraph', text: `${t.dpo}: ${n.dataProtectionOfficer.email}. ${t.dpoCaution}${n.dataProtectionOfficer.digitalPost ? ` ${t.digitalPost}` : ''}` },
      ],
    })),
  });

  return {
    lang,
    title: t.title,
    intro: t.intro,
    summary,
    generatedAt: t.generatedAt(longTime(now.toISOString(), lang)),
    recipients,
    recipientOptions,
    disclosures,
    disclosuresText: disclosures.length === 0 ? t.noneShown : t.showing(disclosures.length),
    series,
    sections,
  };
}
