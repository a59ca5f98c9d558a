/**
 * The citizen's copy to keep (GDPR Art. 15(3)) as a PDF: the same plain words as the page, from
 * the same view (citizen-view.ts) and the same chart layout (html/timeline-chart.ts), mapped onto
 * the PDF renderer's generic blocks (pdf/report-pdf.ts). Pure.
 */
import type { ChartLayout } from '../html/timeline-chart.ts';
import type { CitizenView, DisclosureView, ViewBlock } from '../citizen-view.ts';
import type { PdfBlock, PdfDocument } from './report-pdf.ts';

const WORDS = {
  da: {
    author: 'Sporbar',
    subject: 'Indsigt efter databeskyttelsesforordningens artikel 15: hvem har modtaget dine oplysninger, og hvorfor',
    footer: 'Sporbar – kopi af din indsigt (databeskyttelsesforordningens artikel 15, stk. 3)',
    disclosures: 'Videregivelser',
    disclosuresCaption: 'Hver videregivelse: hvornår, til hvem, hvorfor og hvilke oplysninger; med ! når privatlivspolitikken eller dit samtykke ikke dækker den',
    columns: ['Tidspunkt', 'Modtager', 'Formål', 'Oplysninger', 'Detaljer'],
    erasedShort: 'Slettet',
  },
  en: {
    author: 'Sporbar',
    subject: 'Access under GDPR Article 15: who received your data, and why',
    footer: 'Sporbar – a copy of your access report (GDPR Article 15(3))',
    disclosures: 'Disclosures',
    disclosuresCaption: 'Each disclosure: when, to whom, why and which data; marked ! when the privacy notice or your consent does not cover it',
    columns: ['When', 'Recipient', 'Purpose', 'Data', 'Details'],
    erasedShort: 'Erased',
  },
} as const;

/** What exactly was disclosed, in one cell: the details in words, or that they were erased. */
function detailsCell(d: DisclosureView): string {
  const x = d.details;
  if (x.status === 'ok') return x.fields.map((f) => `${f.label}: ${f.value}`).join('; ');
  return x.text;
}

/** The purpose, and for a disclosure the notice or consent does not cover, why, in words. */
function purposeCell(d: DisclosureView): string {
  return d.flagged ? `${d.purpose} ! ${d.coveredText}: ${d.reasons.join(' ')}` : d.purpose;
}

function blocksOf(blocks: readonly ViewBlock[], level: 2 | 3): PdfBlock[] {
  const out: PdfBlock[] = [];
  const sub = (level === 2 ? 3 : 3) as 3;
  for (const b of blocks) {
    switch (b.kind) {
      case 'paragraph':
        out.push({ kind: 'paragraph', text: b.text });
        break;
      case 'list':
        if (b.items.length > 0) out.push({ kind: 'list', items: [...b.items] });
        break;
      case 'definitions':
        for (const item of b.items) {
          out.push({ kind: 'paragraph', text: item.term, emphasis: 'strong' });
          if (item.description.length > 0) out.push({ kind: 'list', items: [...item.description] });
        }
        break;
      case 'table':
        out.push({ kind: 'table', caption: b.table.caption, columns: [...b.table.columns], rows: b.table.rows.map((r) => [...r]) });
        break;
      case 'subsection':
        out.push({ kind: 'heading', level: sub, text: b.heading }, ...blocksOf(b.blocks, 3));
        break;
    }
  }
  return out;
}

/**
 * The PDF document for a citizen view: title, when it was made, the summary, the chart, the
 * recipients, every disclosure (with what was disclosed or when it was erased), then the Art. 15
 * sections in the page's order.
 */
export function citizenPdfDocument(view: CitizenView, chart: ChartLayout, generatedAt: Date): PdfDocument {
  const w = WORDS[view.lang];
  const blocks: PdfBlock[] = [
    { kind: 'heading', level: 1, text: view.title },
    { kind: 'paragraph', text: view.intro },
    { kind: 'paragraph', text: view.generatedAt },
    ...view.summary.map((text): PdfBlock => ({ kind: 'paragraph', text, emphasis: 'strong' })),
  ];
  if (chart.total > 0) blocks.push({ kind: 'chart', layout: chart });
  // The recipients one by one, each with its facts (seven columns do not fit a portrait A4 page).
  if (view.recipients.rows.length > 0) {
    blocks.push({ kind: 'heading', level: 2, text: view.recipients.caption });
    const [, ...labels] = view.recipients.columns;
    for (const [name, ...cells] of view.recipients.rows) {
      blocks.push({ kind: 'heading', level: 3, text: name ?? '' }, { kind: 'keyValue', pairs: labels.map((label, i): [string, string] => [label, cells[i] ?? '']) });
    }
  }
  blocks.push({ kind: 'heading', level: 2, text: w.disclosures }, { kind: 'paragraph', text: view.disclosuresText });
  if (view.disclosures.length > 0) {
    blocks.push({
      kind: 'table',
      caption: w.disclosuresCaption,
      columns: [...w.columns],
      rows: view.disclosures.map((d) => [d.when, d.recipient, purposeCell(d), d.categories.join(', '), detailsCell(d)]),
    });
  }
  for (const s of view.sections) {
    blocks.push({ kind: 'heading', level: 2, text: s.heading }, { kind: 'paragraph', text: s.articleText }, ...blocksOf(s.blocks, 2));
  }
  return { lang: view.lang, title: view.title, author: w.author, subject: w.subject, generatedAt, blocks, footer: w.footer };
}
