import type { DisclosureItem } from '@sporbar/projections';
import type { DetailsView } from '../details.ts';

export type TimelineItem = Omit<DisclosureItem, 'details'> & { readonly details: DetailsView };
import type { Art15Report } from '../art15-report.ts';
import { reasonText, TEXT, type Lang } from './i18n.ts';
import { judgedByText } from '../judged-by.ts';
import type { RegisterFiles } from '@sporbar/schemas';

/** Escapes text for HTML element content and attribute values. Everything dynamic goes through it. */
export const esc = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const day = (iso: string, lang: Lang) => new Date(iso).toLocaleDateString(lang === 'da' ? 'da-DK' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Europe/Copenhagen' });
const time = (iso: string, lang: Lang) => new Date(iso).toLocaleString(lang === 'da' ? 'da-DK' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Copenhagen' });

export interface RenderOptions {
  readonly lang: Lang;
  readonly filters: { recipient?: string | undefined; from?: string | undefined; to?: string | undefined };
  readonly recipientNames: ReadonlyMap<string, string>;
  /** Whether each disclosure gets its proof link and the on-device check (/verify.js): the server has a log and an event store. */
  readonly proofs?: boolean;
  /** Names the notice version each disclosure was judged by; without it the line is left out. */
  readonly registerFiles?: RegisterFiles;
}

/**
 * The citizen page: plain, accessible HTML (landmarks, headings, captioned tables, labelled form
 * controls, no colour-only meaning), Danish or English. Works without JavaScript once loaded;
 * /citizen.js reads no token: the session cookie carries the requests.
 */
export function renderCitizenReport(report: Art15Report, timeline: readonly TimelineItem[], o: RenderOptions): string {
  const t = TEXT[o.lang];
  const other: Lang = o.lang === 'da' ? 'en' : 'da';
  const list = (items: ReadonlyArray<{ name: string }>) => `<ul>${items.map((i) => `<li>${esc(i.name)}</li>`).join('')}</ul>`;
  const recipients = report.recipients
    .map(
      (r) => `<tr data-recipient="${esc(r.recipient.id)}">
        <th scope="row">${esc(r.recipient.name)}${r.undeclared > 0 ? ` <strong class="undeclared">(${esc(t.undeclared)}: ${r.undeclared})</strong>` : ''}</th>
        <td>${esc(r.recipient.role)}</td>
        <td>${list(r.purposes)}</td>
        <td>${list(r.legalBases)}</td>
        <td>${list(r.dataCategories)}</td>
        <td>${r.disclosures}</td>
        <td>${esc(day(r.firstAt, o.lang))} – ${esc(day(r.lastAt, o.lang))}</td>
      </tr>`,
    )
    .join('');
  const options = [...new Set(report.recipients.map((r) => r.recipient.id))]
    .map((id) => `<option value="${esc(id)}"${o.filters.recipient === id ? ' selected' : ''}>${esc(o.recipientNames.get(id) ?? id)}</option>`)
    .join('');
  const details = (d: DetailsView): string => {
    if (!d) return '';
    if (d.status === 'ok') return `<br><span class="details">${Object.entries(d.values).map(([k, v]) => `${esc(k)}: ${esc(v)}`).join(', ')}</span>`;
    if (d.status === 'erased') return `<br><span class="details erased">${esc(t.erased)} ${esc(day(d.erasedAt, o.lang))}</span>`;
    return `<br><span class="details">${esc(t.unreadable)}</span>`;
  };
  // Why a disclosure is not covered, in plain words (a consent-missing one included).
  const reasons = (codes: readonly string[]): string =>
    codes.length === 0 ? '' : `<br><span class="reasons">${codes.map((c) => esc(reasonText(c, o.lang))).join(' ')}</span>`;
  // The proof link (a download with the bearer token: /verify.js fetches it) and where the on-device check speaks.
  const proof = (eventId: string): string =>
    o.proofs
      ? `<div class="proof" data-event-id="${esc(eventId)}"><a class="proof-download" href="/v1/me/disclosures/${esc(eventId)}/proof" download="sporbar-${esc(eventId)}.tlog-proof">${esc(t.downloadProof)}</a> <span class="proof-status" aria-live="polite"></span></div>`
      : '';
  // Which notice version the disclosure was judged by (the one in force when it happened).
  const judged = (j: TimelineItem['judgedBy']): string =>
    j === null || o.registerFiles === undefined ? '' : `<br><span class="judged-by">${esc(t.judgedBy)} ${esc(judgedByText(j, o.registerFiles, o.lang))}</span>`;
  const events = timeline
    .map(
      (e) => `<li><time datetime="${esc(e.occurredAt)}">${esc(time(e.occurredAt, o.lang))}</time>: <span class="recipient">${esc(o.recipientNames.get(e.recipientId) ?? e.recipientId)}</span> — ${esc(e.purpose)}${
        e.classification === 'undeclared' ? ` <strong class="undeclared">(${esc(t.undeclared)})</strong>${reasons(e.reasons)}` : ''
      }${judged(e.judgedBy)}${details(e.details)}${proof(e.eventId)}</li>`,
    )
    .join('');
  const notices = report.notices
    .map(
      (n) => `<section aria-labelledby="notice-${esc(n.id)}">
      <h2 id="notice-${esc(n.id)}">${esc(n.title)}${n.version ? ` (${esc(n.version)})` : ''}</h2>
      <h3>${esc(t.activities)}</h3>
      ${n.activities
        .map(
          (a) => `<details><summary>${esc(a.name)}</summary>
          <p>${esc(a.description)}</p>
          <h4>${esc(t.purposes)}</h4>${list(a.purposes.map((p) => ({ name: p.description })))}
          <h4>${esc(t.legalBases)}</h4>${list(a.legalBases.map((b) => ({ name: `${b.title} (${b.reference})` })))}
          <h4>${esc(t.recipients)}</h4>${list(a.recipients.map((r) => ({ name: `${r.name}${r.cvr ? `, CVR ${r.cvr}` : ''} — ${r.role}` })))}
          <h4>${esc(t.retention)}</h4>${list(a.retention.map((r) => ({ name: `${r.rule}: ${r.description}` })))}
          <h4>${esc(t.sources)}</h4>${list(a.sourcesOfData)}
          <h4>${esc(t.transfers)}</h4>${a.thirdCountryTransfers.length ? list(a.thirdCountryTransfers.map((x) => ({ name: `${Array.isArray(x.countries) ? x.countries.join(', ') : x.countries}: ${x.safeguard} — ${x.condition}` }))) : `<p>${esc(n.thirdCountryPolicy)}</p>`}
        </details>`,
        )
        .join('')}
      <h3>${esc(t.rights)}</h3>
      <ul>${n.rights.map((r) => `<li>${esc(r.right)}: ${esc(r.status === 'applicable' ? t.applies : r.status === 'not-applicable' ? t.notApplicable : t.notStated)}${r.reason ? ` — ${esc(r.reason)}` : ''}</li>`).join('')}</ul>
      <p>${esc(n.rightsCaveat)}</p>
      <h3>${esc(t.complaint)}</h3>
      <p>${esc(t.complaintText)} ${esc(o.lang === 'da' ? n.complaint.authorityDa : n.complaint.authority)} (${esc(n.complaint.website)}).</p>
      <h3>${esc(t.controller)}</h3>
      <p>${esc(o.lang === 'da' ? n.controller.nameDa : n.controller.name)}, CVR ${esc(n.controller.cvr)}, ${esc(n.controller.address.street)}, ${esc(n.controller.address.postcode)} ${esc(n.controller.address.city)}, ${esc(n.controller.phone)}, ${esc(n.controller.email)}</p>
      <h3>${esc(t.dpo)}</h3>
      <p>${esc(n.dataProtectionOfficer.email)} — ${esc(n.dataProtectionOfficer.caution)}</p>
    </section>`,
    )
    .join('');
  const transfers = report.transfers.length
    ? `<ul>${report.transfers.map((x) => `<li>${esc(o.recipientNames.get(x.recipientId) ?? x.recipientId)}: ${esc(x.country)}, ${esc(x.safeguard)} (${x.disclosures})</li>`).join('')}</ul>`
    : `<p>${esc(t.none)}</p>`;
  const consents = report.consents.length
    ? `<ul>${report.consents.map((c) => `<li>${esc(c.scope)} (${esc(c.activity)}): ${esc(c.given ? t.given : t.withdrawn)} ${esc(day(c.since, o.lang))}</li>`).join('')}</ul>`
    : `<p>${esc(t.none)}</p>`;

  return `<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)}</title>
<link rel="stylesheet" href="/citizen.css">
<script src="/citizen.js" defer></script>
${o.proofs ? '<script src="/verify.js" defer></script>\n' : ''}</head>
<body>
<header><p><a href="?lang=${other}" hreflang="${other}" data-lang="${other}">${esc(t.language)}</a></p><form class="sign-out" method="post" action="/auth/logout"><button type="submit" id="sign-out">${esc(t.signOut)}</button></form></header>
<main>
<h1>${esc(t.title)}</h1>
<p>${esc(t.intro)}</p>
<p id="total">${esc(t.total)}: <strong>${report.totalDisclosures}</strong></p>
<section aria-labelledby="recipients-h">
<h2 id="recipients-h">${esc(t.recipients)}</h2>
<div class="table-scroll" role="region" aria-labelledby="recipients-h" tabindex="0">
<table id="recipients">
<caption>${esc(t.recipients)}</caption>
<thead><tr><th scope="col">${esc(t.recipient)}</th><th scope="col">${esc(t.role)}</th><th scope="col">${esc(t.purposes)}</th><th scope="col">${esc(t.legalBases)}</th><th scope="col">${esc(t.categories)}</th><th scope="col">${esc(t.count)}</th><th scope="col">${esc(t.period)}</th></tr></thead>
<tbody>${recipients}</tbody>
</table>
</div>
</section>
<section aria-labelledby="timeline-h">
<h2 id="timeline-h">${esc(t.timeline)}</h2>
<form id="filter" method="get" action="/v1/me/report">
<input type="hidden" name="lang" value="${o.lang}">
<label for="f-recipient">${esc(t.recipient)}</label>
<select id="f-recipient" name="recipient"><option value="">${esc(t.allRecipients)}</option>${options}</select>
<label for="f-from">${esc(t.from)}</label><input id="f-from" name="from" type="date" value="${esc(o.filters.from?.slice(0, 10) ?? '')}">
<label for="f-to">${esc(t.to)}</label><input id="f-to" name="to" type="date" value="${esc(o.filters.to?.slice(0, 10) ?? '')}">
<button type="submit">${esc(t.filter)}</button>
</form>
${o.proofs ? `<p id="proof-intro">${esc(t.proofIntro)}</p>\n` : ''}<ol id="timeline">${events}</ol>
</section>
<section aria-labelledby="transfers-h"><h2 id="transfers-h">${esc(t.transfers)}</h2>${transfers}</section>
<section aria-labelledby="consents-h"><h2 id="consents-h">${esc(t.consents)}</h2>${consents}</section>
${notices}
</main>
</body>
</html>`;
}
