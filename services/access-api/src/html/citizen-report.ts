import type { DisclosureItem } from '@sporbar/projections';
import { registerFiles as packagedRegisterFiles, type RegisterFiles } from '@sporbar/schemas';
import type { DetailsView } from '../details.ts';
import type { Art15Report } from '../art15-report.ts';
import { citizenView, type CitizenView, type DisclosureView, type ViewBlock, type ViewSection, type ViewTable } from '../citizen-view.ts';
import { TEXT, type Lang } from './i18n.ts';

export type TimelineItem = Omit<DisclosureItem, 'details'> & { readonly details: DetailsView };

/** Escapes text for HTML element content and attribute values. Everything dynamic goes through it. */
export const esc = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface RenderOptions {
  readonly lang: Lang;
  readonly filters: { recipient?: string | undefined; from?: string | undefined; to?: string | undefined };
  /** Kept for callers of the earlier page; names now come from the register files' words. */
  readonly recipientNames?: ReadonlyMap<string, string>;
  /** Whether each disclosure gets its proof link and the on-device check (/verify.js): the server has a log and an event store. */
  readonly proofs?: boolean;
  /**
   * The completeness check (docs/subject-map.md): a section the page's verify.js fills after checking
   * the subject-map proof bundle (GET /v1/me/subject-map) on the device; `total` is how many
   * disclosures the report lists in all (the bundle must prove exactly that many).
   */
  readonly completeness?: { readonly total: number };
  /** The register files the words (and the notice version each disclosure was judged by) come from; default: the packaged ones. */
  readonly registerFiles?: RegisterFiles;
  /** The time the page says it was made (default: now). */
  readonly now?: Date;
  /** The timeline chart (an SVG another part draws from `view.series`), inserted under the summary as it is. */
  readonly chartSvg?: string;
}

/**
 * The citizen page: the citizen view (citizen-view.ts) as plain, accessible HTML — landmarks, one h1,
 * ordered headings, captioned tables with scoped headers (stacked rows on a narrow screen), labelled
 * form controls, flags in words and an icon besides colour, `lang` on text in the other language.
 * No inline styles or scripts (the CSP): /citizen.css, /chart.css, /citizen.js (reads no token: the
 * session cookie carries the requests) and, with
 * proofs, /verify.js (checks each proof on the device).
 */
export function renderCitizenReport(report: Art15Report, timeline: readonly TimelineItem[], o: RenderOptions): string {
  const files = o.registerFiles ?? packagedRegisterFiles;
  const view = citizenView(report, timeline, files, o.lang, o.now ?? new Date());
  return renderCitizenView(view, o);
}

const query = (params: Record<string, string | undefined>): string =>
  `?${Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v!)}`).join('&')}`;

function table(tbl: ViewTable, id?: string): string {
  const [, ...rest] = tbl.columns;
  return `<table class="stack"${id ? ` id="${esc(id)}"` : ''}>
<caption>${esc(tbl.caption)}</caption>
<thead><tr>${tbl.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${tbl.rows.map((r) => `<tr><th scope="row">${esc(r[0])}</th>${r.slice(1).map((cell, i) => `<td data-label="${esc(rest[i])}">${esc(cell)}</td>`).join('')}</tr>`).join('\n')}</tbody>
</table>`;
}

function blocks(items: readonly ViewBlock[], level: number): string {
  return items
    .map((b) => {
      switch (b.kind) {
        case 'paragraph':
          return b.text === '' ? '' : `<p>${esc(b.text)}</p>`;
        case 'list':
          return b.items.length === 0 ? '' : `<ul>${b.items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
        case 'definitions':
          return b.items.length === 0 ? '' : `<dl>${b.items.map((i) => `<dt>${esc(i.term)}</dt>${i.description.map((d) => `<dd>${esc(d)}</dd>`).join('')}`).join('')}</dl>`;
        case 'table':
          return table(b.table);
        case 'subsection': {
          const h = Math.min(level, 6);
          return `<h${h}>${esc(b.heading)}</h${h}>\n      ${blocks(b.blocks, level + 1)}`;
        }
      }
    })
    .join('\n');
}

function section(s: ViewSection): string {
  // "art15-…": the page's own ids (#recipients, #timeline, #disclosures) stay unique.
  return `<section id="art15-${esc(s.id)}" aria-labelledby="art15-${esc(s.id)}-h">
<h2 id="art15-${esc(s.id)}-h">${esc(s.heading)}</h2>
<p class="article">${esc(s.articleText)}</p>
${blocks(s.blocks, 3)}
</section>`;
}

/** "Is anything missing?": verify.js writes its verdict into the status line. */
function completenessSection(total: number, lang: Lang): string {
  const t = TEXT[lang];
  return `<section id="subject-map-check" aria-labelledby="complete-h" data-url="/v1/me/subject-map" data-total="${total}">
<h2 id="complete-h">${esc(t.completeH)}</h2>
<p>${esc(t.completeText)}</p>
<p class="map-status" role="status">${esc(t.completeChecking)}</p>
<p><a class="map-download" href="/v1/me/subject-map?download=true" download type="application/json">${esc(t.completeDownload)}</a></p>
</section>
`;
}

function disclosure(d: DisclosureView, lang: Lang, proofs: boolean): string {
  const t = TEXT[lang];
  const flag = d.flagged ? ` <strong class="flag"><span aria-hidden="true">⚠</span> ${esc(t.flag)}: ${esc(d.coveredText)}</strong>` : '';
  const facts: [string, string][] = [
    [t.recipient, `${d.recipient} (${d.role})`],
    [t.purposes, d.purpose],
    [t.categories, d.categories.join(', ')],
    [t.legalBases, d.legalBases.join('; ')],
    [t.status, d.coveredText],
  ];
  const details =
    d.details.status === 'ok'
      ? `<dl class="details">${d.details.fields.map((f) => `<dt>${esc(f.label)}</dt><dd>${esc(f.value)}</dd>`).join('')}</dl>`
      : d.details.status === 'erased'
        ? `<p class="details erased"><strong>${esc(d.details.text)}.</strong> ${esc(d.details.note)}</p>`
        : `<p class="details">${esc(d.details.text)}</p>`;
  const proof = proofs
    ? `<div class="proof" data-event-id="${esc(d.eventId)}"><a class="proof-download" href="/v1/me/disclosures/${esc(d.eventId)}/proof" download="sporbar-${esc(d.eventId)}.tlog-proof">${esc(t.downloadProof)}</a> <span class="proof-status" aria-live="polite"></span></div>`
    : '';
  return `<li class="disclosure${d.flagged ? ' flagged' : ''}"><details>
<summary><time datetime="${esc(d.occurredAt)}">${esc(d.when)}</time>: <span class="recipient">${esc(d.recipient)}</span> – ${esc(d.purpose)}${flag}</summary>
<div class="disclosure-body">
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
${d.flagged ? `<p class="why"><strong>${esc(t.why)}</strong> <span class="reasons">${esc(d.reasons.join(' '))}</span></p>\n` : ''}${d.transfer ? `<p class="transfer">${esc(d.transfer)}</p>\n` : ''}<h3>${esc(t.whatDisclosed)}</h3>
${details}
${d.judgedBy ? `<p class="judged-by">${esc(t.judgedBy)} ${esc(d.judgedBy)}</p>\n` : ''}${proof}
</div>
</details></li>`;
}

/** The page of a citizen view (pure: view in, HTML out). */
export function renderCitizenView(view: CitizenView, o: RenderOptions): string {
  const lang = view.lang;
  const t = TEXT[lang];
  const other: Lang = lang === 'da' ? 'en' : 'da';
  const f = o.filters;
  const options = view.recipientOptions.map((r) => `<option value="${esc(r.value)}"${f.recipient === r.value ? ' selected' : ''}>${esc(r.label)}</option>`).join('');
  const switchHref = query({ lang: other, recipient: f.recipient, from: f.from, to: f.to });

  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(view.title)}</title>
<link rel="stylesheet" href="/citizen.css">
<link rel="stylesheet" href="/chart.css">
<script src="/citizen.js" defer></script>
${o.proofs ? '<script src="/verify.js" defer></script>\n' : ''}</head>
<body>
<a class="skip" href="#main">${esc(t.skip)}</a>
<header class="top">
<nav aria-label="${esc(lang === 'da' ? 'Sprog og log ud' : 'Language and sign out')}">
<a href="${esc(switchHref)}" hreflang="${other}" lang="${other}" data-lang="${other}" aria-label="${esc(t.languageLabel)}">${esc(t.language)}</a>
<form id="sign-out" class="sign-out" method="post" action="/auth/logout"><button type="submit">${esc(t.signOut)}</button></form>
</nav>
</header>
<main id="main">
<h1>${esc(view.title)}</h1>
<div id="total" class="summary">${view.summary.map((s) => `<p>${esc(s)}</p>`).join('')}</div>
<!-- timeline chart: the SVG drawn from the view's series goes here (render option chartSvg) -->
<div id="timeline-chart">${o.chartSvg ?? ''}</div>
<p class="intro">${esc(view.intro)}</p>
<section id="copy" aria-labelledby="copy-h">
<h2 id="copy-h">${esc(t.copyH)}</h2>
<p>${esc(t.copyText)}</p>
<ul class="downloads">
<li><a href="/v1/me/report.pdf?lang=${lang}" download type="application/pdf">${esc(t.downloadPdf)}</a></li>
<li><a href="/v1/me/report.json?lang=${lang}" download type="application/json">${esc(t.downloadJson)}</a></li>
</ul>
</section>
<section id="recipients-section" aria-labelledby="recipients-h">
<h2 id="recipients-h">${esc(t.recipients)}</h2>
${table(view.recipients, 'recipients')}
</section>
<section id="disclosures" aria-labelledby="timeline-h">
<h2 id="timeline-h">${esc(t.disclosures)}</h2>
<form id="filter" method="get" action="/v1/me/report">
<fieldset>
<legend>${esc(t.filterLegend)}</legend>
<input type="hidden" name="lang" value="${lang}">
<div class="field"><label for="f-recipient">${esc(t.recipient)}</label>
<select id="f-recipient" name="recipient"><option value="">${esc(t.allRecipients)}</option>${options}</select></div>
<div class="field"><label for="f-from">${esc(t.from)}</label><input id="f-from" name="from" type="date" value="${esc(f.from?.slice(0, 10) ?? '')}"></div>
<div class="field"><label for="f-to">${esc(t.to)}</label><input id="f-to" name="to" type="date" value="${esc(f.to?.slice(0, 10) ?? '')}"></div>
<button type="submit">${esc(t.filter)}</button>
</fieldset>
</form>
<p class="count" aria-live="polite">${esc(view.disclosuresText)}</p>
${o.proofs ? `<p id="proof-intro">${esc(t.proofIntro)}</p>\n` : ''}<ol id="timeline">${view.disclosures.map((d) => disclosure(d, lang, o.proofs === true)).join('\n')}</ol>
</section>
${o.completeness ? completenessSection(o.completeness.total, lang) : ''}${view.sections.map(section).join('\n')}
</main>
<footer><p>${esc(view.generatedAt)}</p></footer>
</body>
</html>`;
}
