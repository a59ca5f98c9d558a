/**
 * The citizen's report as a PDF to keep (GDPR Art. 15(3): "a copy of the personal data").
 *
 * Input is a generic document model (headings, paragraphs, lists, tables, key/value pairs and the
 * timeline chart's layout), independent of the report's shape: the page maps its report to it.
 * Output: an A4 PDF, made with PDFKit and its standard Helvetica (WinAnsi: æøå ÆØÅ, – and “ ” ‘ ’
 * are in it; characters outside WinAnsi are replaced, see `winAnsi`).
 *
 * - Every page has the footer and "Side 3 af 7" / "Page 3 of 7" (pages are buffered, so the total is
 *   known when they are written).
 * - Tables wrap long cell text (also a word longer than its column) and continue across pages,
 *   repeating the header row on each new page.
 * - The chart is drawn as vectors from the same `ChartLayout` as the SVG (same periods, same counts,
 *   same geometry code: `chartGeometry`), in points instead of pixels.
 * - Metadata: Title, Author, Subject in the Info dictionary and XMP; /Lang in the catalog
 *   (da-DK / en-GB); CreationDate and ModDate = `generatedAt`. PDFKit's file /ID is an MD5 of the
 *   Info entries (CreationDate included), nothing random unless encrypting: the same input gives
 *   the same bytes.
 *
 * Tagged PDF (PDFKit's `tagged: true`): a structure tree Document > H1/H2/H3, P, L > LI > Lbl +
 * LBody, Table > TR > TH (scope Column) / TD, Figure (with the chart's summary as /Alt), Caption;
 * page footers and numbers are marked as pagination artifacts, the table's backgrounds and rules
 * as artifacts; /MarkInfo /Marked true, /Lang and DisplayDocTitle set. So a screen reader reads
 * the text in order with its headings, lists and table cells. What it does not do: it is not
 * validated PDF/UA (no PAC/veraPDF run here); the standard 14 fonts are not embedded (PDF/UA and
 * PDF/A want embedded fonts: embedding a font file with `registerFont` would fix it, at the cost
 * of size); a table continued on the next page is one Table element whose repeated header rows
 * are artifacts, and TH cells do not carry /Headers ids.
 */
import PDFDocument from 'pdfkit';
import { chartGeometry, fmt, flaggedWords, CHART_COLOURS, type ChartLayout, type ChartSizes } from '../html/timeline-chart.ts';

export type PdfBlock =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string; emphasis?: 'strong' | 'warning' }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; caption: string; columns: string[]; rows: string[][] }
  | { kind: 'chart'; layout: ChartLayout }
  | { kind: 'keyValue'; pairs: Array<[string, string]> };

export interface PdfDocument {
  lang: 'da' | 'en';
  title: string;
  author: string;
  subject: string;
  generatedAt: Date;
  blocks: PdfBlock[];
  footer: string;
}

type Pdf = PDFKit.PDFDocument;
type Struct = PDFKit.PDFStructureElement;
/**
 * PDFKit 0.20 also takes `scope` (TH: /A << /O /Table /Scope … >>) and `bbox`/`placement` (a
 * Figure's layout attributes); @types/pdfkit 0.17 does not list them yet.
 */
type StructOptions = PDFKit.Mixins.StructureElementOptions & { scope?: 'Row' | 'Column' | 'Both'; bbox?: [number, number, number, number]; placement?: 'Block' | 'Inline' };
const opts = (o: StructOptions) => o as PDFKit.Mixins.StructureElementOptions;

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = { top: 56, bottom: 72, left: 56, right: 56 };
const CONTENT_WIDTH = A4.width - MARGIN.left - MARGIN.right;
const BODY = 10.5;
const SMALL = 9;
const INK = '#1a1a1a';
const MUTED = '#4d4d4d'; // 8.5:1 on white
const WARNING = '#a4161a'; // 7.3:1 on white
const RULE = '#767676';
const HEADER_FILL = '#e6e6e6';
const STRIPE_FILL = '#f4f4f4';
const HEADINGS = { 1: 20, 2: 15, 3: 12.5 } as const;

/** The chart in points: the same geometry code as the SVG, smaller type. */
const PDF_CHART: ChartSizes = {
  width: CONTENT_WIDTH, pad: 0, fontSize: 8.5, labelSize: 9.5, laneLabel: 12, barMax: 20, countRoom: 12, laneGap: 6, axis: 20, legendLine: 12,
};

// WinAnsiEncoding (what PDFKit's standard fonts are written in): Latin-1 plus these.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
/**
 * Text the standard fonts can show: characters outside WinAnsi lose their accents if that brings
 * them in (ā → a, ł stays out), else become "?"; controls and odd spaces become spaces.
 */
export function winAnsi(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFC')) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (c < 0x20 || (c >= 0x2000 && c <= 0x200b) || c === 0x202f) out += c === 0x0a ? '\n' : ' ';
    else if (ch === '−' || ch === '‐' || ch === '‑') out += '-';
    else {
      const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += [...base].every((b) => b.codePointAt(0)! <= 0xff) && base ? base : '?';
    }
  }
  return out;
}

const T = {
  da: { page: (i: number, n: number) => `Side ${i} af ${n}`, continued: '(fortsat)' },
  en: { page: (i: number, n: number) => `Page ${i} of ${n}`, continued: '(continued)' },
} as const;

export async function renderPdf(doc: PdfDocument): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    pdfVersion: '1.7',
    tagged: true,
    lang: doc.lang === 'da' ? 'da-DK' : 'en-GB',
    displayTitle: true,
    info: {
      Title: winAnsi(doc.title),
      Author: winAnsi(doc.author),
      Subject: winAnsi(doc.subject),
      Creator: 'Sporbar',
      Producer: 'Sporbar (PDFKit)',
      CreationDate: doc.generatedAt,
      ModDate: doc.generatedAt,
    },
  });
  escapeXmpMetadata(pdf);
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  const root = pdf.struct('Document');
  pdf.addStructure(root);
  pdf.font('Helvetica').fontSize(BODY).fillColor(INK);
  const w = new Writer(pdf, root, doc.lang);
  for (const block of doc.blocks) w.block(block);
  root.end();

  // Footer and page numbers, now that the number of pages is known.
  const { start, count } = pdf.bufferedPageRange();
  for (let i = start; i < start + count; i++) {
    pdf.switchToPage(i);
    const bottom = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0; // writing in the margin must not start a new page
    pdf.markContent('Artifact', { type: 'Pagination' });
    const y = A4.height - MARGIN.bottom + 22;
    pdf.moveTo(MARGIN.left, y - 6).lineTo(A4.width - MARGIN.right, y - 6).lineWidth(0.5).strokeColor(RULE).stroke();
    const pageText = T[doc.lang].page(i - start + 1, count);
    pdf.font('Helvetica').fontSize(8.5).fillColor(MUTED);
    const pageWidth = pdf.widthOfString(pageText);
    pdf.text(winAnsi(doc.footer), MARGIN.left, y, { width: CONTENT_WIDTH - pageWidth - 16, lineBreak: true, height: 30, ellipsis: true });
    pdf.text(pageText, A4.width - MARGIN.right - pageWidth, y, { lineBreak: false });
    pdf.endMarkedContent();
    pdf.page.margins.bottom = bottom;
  }
  pdf.end();
  return done;
}

/**
 * PDFKit writes Title/Author/Subject into the XMP packet without escaping them (a "&" or "<" in a
 * title would make the XML malformed); the Info dictionary escapes them itself. Escape for the XMP
 * only, while PDFKit writes it.
 */
function escapeXmpMetadata(pdf: Pdf): void {
  const target = pdf as unknown as { _addInfo?: () => void; info: Record<string, unknown> };
  const original = target._addInfo;
  if (typeof original !== 'function') return;
  target._addInfo = function (this: typeof target) {
    const saved = this.info;
    const escaped: Record<string, unknown> = { ...saved };
    for (const key of ['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer']) {
      if (typeof saved[key] === 'string') escaped[key] = (saved[key] as string).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    }
    this.info = escaped;
    try {
      original.call(this);
    } finally {
      this.info = saved;
    }
  };
}

class Writer {
  private readonly bottomLimit = A4.height - MARGIN.bottom;

  constructor(private readonly pdf: Pdf, private readonly root: Struct, private readonly lang: 'da' | 'en') {}

  block(b: PdfBlock): void {
    switch (b.kind) {
      case 'heading': return this.heading(b.level, b.text);
      case 'paragraph': return this.paragraph(b.text, b.emphasis);
      case 'list': return this.list(b.items);
      case 'table': return this.table(b.caption, b.columns, b.rows);
      case 'chart': return this.chart(b.layout);
      case 'keyValue': return this.keyValue(b.pairs);
    }
  }

  /** A new page unless `height` more fits on this one. */
  private ensure(height: number): void {
    if (this.pdf.y + height > this.bottomLimit && this.pdf.y > MARGIN.top + 1) this.pdf.addPage();
  }

  private heading(level: 1 | 2 | 3, text: string): void {
    const { pdf } = this;
    const size = HEADINGS[level];
    if (pdf.y > MARGIN.top + 1) pdf.moveDown(level === 1 ? 0.8 : 0.6);
    pdf.font('Helvetica-Bold').fontSize(size);
    // Keep a heading with at least five lines of what follows (a sub-heading and its first lines).
    this.ensure(pdf.heightOfString(winAnsi(text), { width: CONTENT_WIDTH }) + 5 * BODY * 1.4);
    this.root.add(pdf.struct(`H${level}`, {}, () => {
      pdf.fillColor(INK).text(winAnsi(text), MARGIN.left, pdf.y, { width: CONTENT_WIDTH, lineGap: 2 });
    }));
    pdf.moveDown(0.35);
    pdf.font('Helvetica').fontSize(BODY);
  }

  private paragraph(text: string, emphasis?: 'strong' | 'warning'): void {
    const { pdf } = this;
    pdf.font(emphasis ? 'Helvetica-Bold' : 'Helvetica').fontSize(BODY);
    const indent = emphasis === 'warning' ? 10 : 0;
    const width = CONTENT_WIDTH - indent;
    const body = winAnsi(emphasis === 'warning' ? `! ${text}` : text);
    this.ensure(Math.min(pdf.heightOfString(body, { width, lineGap: 2 }), BODY * 1.4 * 2));
    const top = pdf.y;
    const startPage = this.pageIndex();
    this.root.add(pdf.struct('P', {}, () => {
      pdf.fillColor(emphasis === 'warning' ? WARNING : INK).text(body, MARGIN.left + indent, pdf.y, { width, lineGap: 2 });
    }));
    if (emphasis === 'warning' && this.pageIndex() === startPage) {
      // A rule to the left: with the "!" and the bold, not colour alone.
      pdf.markContent('Artifact', { type: 'Layout' });
      pdf.rect(MARGIN.left, top, 3, pdf.y - top).fill(WARNING);
      pdf.endMarkedContent();
    }
    pdf.fillColor(INK).font('Helvetica');
    pdf.moveDown(0.6);
  }

  private list(items: string[]): void {
    const { pdf } = this;
    pdf.font('Helvetica').fontSize(BODY);
    const list = pdf.struct('L');
    this.root.add(list);
    for (const item of items) {
      const text = winAnsi(item);
      this.ensure(Math.min(pdf.heightOfString(text, { width: CONTENT_WIDTH - 16, lineGap: 2 }), BODY * 1.4 * 2));
      const li = pdf.struct('LI');
      list.add(li);
      const y = pdf.y;
      li.add(pdf.struct('Lbl', {}, () => pdf.fillColor(INK).text('•', MARGIN.left + 4, y, { lineBreak: false })));
      li.add(pdf.struct('LBody', {}, () => pdf.text(text, MARGIN.left + 16, y, { width: CONTENT_WIDTH - 16, lineGap: 2 })));
      li.end();
      pdf.moveDown(0.2);
    }
    list.end();
    pdf.moveDown(0.4);
  }

  private keyValue(pairs: Array<[string, string]>): void {
    const { pdf } = this;
    const keyWidth = Math.round(CONTENT_WIDTH * 0.34);
    const valueX = MARGIN.left + keyWidth + 10;
    const valueWidth = CONTENT_WIDTH - keyWidth - 10;
    // A two-column table without a header: TR > TH (scope Row) + TD.
    const table = pdf.struct('Table');
    this.root.add(table);
    for (const [k, v] of pairs) {
      const key = winAnsi(k);
      const value = winAnsi(v);
      pdf.font('Helvetica-Bold').fontSize(BODY);
      const hk = pdf.heightOfString(key, { width: keyWidth, lineGap: 2 });
      pdf.font('Helvetica');
      const hv = pdf.heightOfString(value, { width: valueWidth, lineGap: 2 });
      const h = Math.max(hk, hv);
      this.ensure(h + 4);
      const y = pdf.y;
      const tr = pdf.struct('TR');
      table.add(tr);
      tr.add(pdf.struct('TH', opts({ scope: 'Row' }), () => pdf.font('Helvetica-Bold').fillColor(INK).text(key, MARGIN.left, y, { width: keyWidth, lineGap: 2 })));
      tr.add(pdf.struct('TD', {}, () => pdf.font('Helvetica').text(value, valueX, y, { width: valueWidth, lineGap: 2 })));
      tr.end();
      pdf.x = MARGIN.left;
      pdf.y = y + h + 4;
    }
    table.end();
    pdf.font('Helvetica');
    pdf.moveDown(0.5);
  }

  private pageIndex(): number {
    const { start, count } = this.pdf.bufferedPageRange();
    return start + count - 1;
  }

  private table(caption: string, columns: string[], rows: string[][]): void {
    const { pdf } = this;
    const pad = 3;
    const size = SMALL;
    const cols = columns.map(winAnsi);
    const body = rows.map((r) => cols.map((_, i) => winAnsi(r[i] ?? '')));
    const widths = columnWidths(pdf, cols, body, size, pad);
    const xs = widths.map((_, i) => MARGIN.left + widths.slice(0, i).reduce((a, b) => a + b, 0));
    const cellOptions = (i: number) => ({ width: widths[i]! - 2 * pad, lineGap: 1 });
    const rowHeight = (cells: string[], bold: boolean) => {
      pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size);
      return Math.max(...cells.map((c, i) => pdf.heightOfString(c || ' ', cellOptions(i)))) + 2 * pad;
    };
    const headerHeight = rowHeight(cols, true);

    const table = pdf.struct('Table');
    this.root.add(table);
    pdf.font('Helvetica-Bold').fontSize(BODY);
    this.ensure(pdf.heightOfString(winAnsi(caption), { width: CONTENT_WIDTH }) + headerHeight + rowHeight(body[0] ?? cols, false) + 6);
    table.add(pdf.struct('Caption', {}, () => pdf.fillColor(INK).text(winAnsi(caption), MARGIN.left, pdf.y, { width: CONTENT_WIDTH, lineGap: 2 })));
    pdf.moveDown(0.3);

    const drawRow = (cells: string[], y: number, h: number, kind: 'header' | 'body' | 'repeat', stripe: boolean): void => {
      pdf.markContent('Artifact', { type: 'Layout' });
      if (kind !== 'body' || stripe) pdf.rect(MARGIN.left, y, CONTENT_WIDTH, h).fill(kind === 'body' ? STRIPE_FILL : HEADER_FILL);
      pdf.lineWidth(0.5).strokeColor(RULE);
      pdf.moveTo(MARGIN.left, y + h).lineTo(MARGIN.left + CONTENT_WIDTH, y + h).stroke();
      if (kind !== 'body') pdf.moveTo(MARGIN.left, y).lineTo(MARGIN.left + CONTENT_WIDTH, y).stroke();
      pdf.endMarkedContent();
      pdf.font(kind === 'body' ? 'Helvetica' : 'Helvetica-Bold').fontSize(size).fillColor(INK);
      const drawCell = (c: string, i: number) => pdf.text(c, xs[i]! + pad, y + pad, cellOptions(i));
      if (kind === 'repeat') {
        // The header again on a new page: for the eye; the structure has it once.
        pdf.markContent('Artifact', { type: 'Pagination' });
        cells.forEach(drawCell);
        pdf.endMarkedContent();
        return;
      }
      const tr = pdf.struct('TR');
      table.add(tr);
      cells.forEach((c, i) => tr.add(pdf.struct(kind === 'header' ? 'TH' : 'TD', opts(kind === 'header' ? { scope: 'Column' } : {}), () => drawCell(c, i))));
      tr.end();
    };

    let y = pdf.y;
    drawRow(cols, y, headerHeight, 'header', false);
    y += headerHeight;
    body.forEach((cells, r) => {
      const h = rowHeight(cells, false);
      if (y + h > this.bottomLimit) {
        pdf.addPage();
        y = MARGIN.top;
        drawRow(cols, y, headerHeight, 'repeat', false);
        y += headerHeight;
      }
      drawRow(cells, y, h, 'body', r % 2 === 1);
      y += h;
    });
    table.end();
    pdf.x = MARGIN.left;
    pdf.y = y;
    pdf.font('Helvetica').fontSize(BODY);
    pdf.moveDown(0.8);
  }

  private chart(layout: ChartLayout): void {
    const { pdf } = this;
    const G = PDF_CHART;
    const geo = chartGeometry(layout, G);
    this.ensure(geo.height + 4);
    const x0 = MARGIN.left;
    const y0 = pdf.y;
    const C = CHART_COLOURS;
    const figure = pdf.struct('Figure', opts({ alt: winAnsi(`${layout.title}. ${layout.summary}`), bbox: [x0, y0, x0 + geo.width, y0 + geo.height], placement: 'Block' }), () => {
      const text = (s: string, x: number, y: number, opts: { size: number; bold?: boolean; colour?: string; align?: 'left' | 'center' | 'right' }) => {
        pdf.font(opts.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(opts.size).fillColor(opts.colour ?? C.text);
        const t = winAnsi(s);
        const w = pdf.widthOfString(t);
        const left = opts.align === 'center' ? x - w / 2 : opts.align === 'right' ? x - w : x;
        // y is the baseline, as in the SVG.
        pdf.text(t, x0 + left, y0 + y - opts.size * 0.8, { lineBreak: false });
      };
      geo.legend.forEach((line, i) => text(line, G.pad, G.pad + (i + 1) * G.legendLine - 3, { size: G.fontSize, colour: MUTED }));
      for (const lane of geo.lanes) {
        const flagged = lane.row.flagged > 0;
        text(lane.heading, G.pad, lane.top + G.labelSize, { size: G.labelSize, bold: true, colour: flagged ? C.flag : C.text });
        text(lane.totalText, geo.width - G.pad, lane.top + G.labelSize, { size: G.fontSize, align: 'right' });
        if (flagged) text(flaggedWords(layout.lang, lane.row.flagged), G.pad, lane.top + G.laneLabel + G.fontSize - 1, { size: G.fontSize, colour: C.flag });
        pdf.moveTo(x0 + geo.plotLeft, y0 + lane.baseline).lineTo(x0 + geo.plotLeft + geo.plotWidth, y0 + lane.baseline).lineWidth(0.75).strokeColor(C.axis).stroke();
        for (const bar of lane.bars) {
          if (bar.count === 0) continue;
          const bx = x0 + bar.x;
          const by = y0 + lane.baseline - bar.h;
          // The declared part solid, the flagged part (bar.fh, on top) hatched and outlined.
          if (bar.h - bar.fh > 0.01) pdf.rect(bx, by + bar.fh, bar.w, bar.h - bar.fh).fill(C.bar);
          if (bar.fh > 0.01) {
            pdf.save();
            pdf.rect(bx, by, bar.w, bar.fh).clip();
            pdf.lineWidth(1.4).strokeColor(C.flag);
            for (let d = -bar.fh; d < bar.w; d += 4) pdf.moveTo(bx + d, by + bar.fh).lineTo(bx + d + bar.fh, by).stroke();
            pdf.restore();
            pdf.rect(bx, by, bar.w, bar.fh).lineWidth(1).strokeColor(C.flag).stroke();
          }
          const count = fmt(layout.lang, bar.count);
          if (bar.rotate) {
            pdf.save();
            pdf.rotate(-90, { origin: [bx + bar.w / 2 + 3, by - 2] });
            text(count, bar.x + bar.w / 2 + 3, lane.baseline - bar.h - 2, { size: G.fontSize });
            pdf.restore();
          } else {
            text(count, bar.x + bar.w / 2, lane.baseline - bar.h - 2, { size: G.fontSize, align: 'center' });
          }
        }
      }
      pdf.moveTo(x0 + geo.plotLeft, y0 + geo.axisY).lineTo(x0 + geo.plotLeft + geo.plotWidth, y0 + geo.axisY).lineWidth(0.75).strokeColor(C.axis).stroke();
      for (const tick of geo.ticks) {
        pdf.moveTo(x0 + tick.x, y0 + geo.axisY).lineTo(x0 + tick.x, y0 + geo.axisY + 3).stroke();
        text(tick.text, tick.x, geo.axisY + 3 + G.fontSize, { size: G.fontSize, align: 'center' });
      }
    });
    this.root.add(figure);
    pdf.x = MARGIN.left;
    pdf.y = y0 + geo.height + 6;
    pdf.font('Helvetica').fontSize(BODY).fillColor(INK);
    pdf.moveDown(0.5);
  }
}

/**
 * Column widths: each column's natural width (its longest cell or header, at most 60 % of the
 * page). If they all fit, they are widened in proportion. If not, the columns narrower than a fair
 * share of what is left keep their natural width (dates, numbers stay on one line) and the wide
 * ones share the rest in proportion to their natural widths, wrapping.
 */
function columnWidths(pdf: Pdf, cols: string[], body: string[][], size: number, pad: number): number[] {
  pdf.fontSize(size);
  const sample = body.length > 400 ? body.filter((_, i) => i % Math.ceil(body.length / 400) === 0) : body;
  const natural = cols.map((c, i) => {
    pdf.font('Helvetica-Bold');
    let w = pdf.widthOfString(c);
    pdf.font('Helvetica');
    for (const r of sample) w = Math.max(w, pdf.widthOfString(r[i] ?? ''));
    return Math.min(w + 2 * pad + 1, CONTENT_WIDTH * 0.6);
  });
  // The longest word of each column (its header in bold): a column is never narrower, so a word is
  // broken only when the longest words of all columns together do not fit the page.
  const longestWord = (text: string) => Math.max(0, ...text.split(/\s+/).map((word) => pdf.widthOfString(word)));
  const minimum = cols.map((c, i) => {
    pdf.font('Helvetica-Bold');
    let w = longestWord(c);
    pdf.font('Helvetica');
    for (const r of sample) w = Math.max(w, longestWord(r[i] ?? ''));
    return Math.min(w + 2 * pad + 1, CONTENT_WIDTH * 0.3);
  });
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= CONTENT_WIDTH) return natural.map((w) => (w / total) * CONTENT_WIDTH);
  return atLeast(shareWidths(natural), minimum);
}

/** Raises the columns below their minimum to it, taking the width from the others in proportion; pure. */
function atLeast(widths: number[], minimum: number[]): number[] {
  // When the longest words together are wider than the page, each column gets the same share of its minimum.
  const sum = minimum.reduce((a, b) => a + b, 0);
  if (sum > CONTENT_WIDTH) minimum = minimum.map((m) => (m * CONTENT_WIDTH) / sum);
  const out = [...widths];
  for (let round = 0; round < out.length; round++) {
    const short = out.map((w, i) => (w < minimum[i]! - 0.01 ? i : -1)).filter((i) => i >= 0);
    if (short.length === 0) break;
    const need = short.reduce((sum, i) => sum + minimum[i]! - out[i]!, 0);
    for (const i of short) out[i] = minimum[i]!;
    const give = out.map((w, i) => (short.includes(i) ? 0 : Math.max(0, w - minimum[i]!)));
    const spare = give.reduce((a, b) => a + b, 0);
    out.forEach((w, i) => {
      if (!short.includes(i) && spare > 0) out[i] = w - (give[i]! / spare) * need;
    });
  }
  return out;
}

/** The natural widths fitted to the page: narrow columns keep theirs, wide ones share the rest. */
function shareWidths(natural: number[]): number[] {
  const cols = natural;
  const widths = new Array<number>(cols.length).fill(0);
  let open = cols.map((_, i) => i);
  let remaining = CONTENT_WIDTH;
  for (;;) {
    const fair = remaining / open.length;
    const small = open.filter((i) => natural[i]! <= fair);
    if (small.length === 0) {
      const sum = open.reduce((a, i) => a + natural[i]!, 0);
      for (const i of open) widths[i] = (natural[i]! / sum) * remaining;
      return widths;
    }
    for (const i of small) {
      widths[i] = natural[i]!;
      remaining -= natural[i]!;
    }
    open = open.filter((i) => !small.includes(i));
    if (open.length === 0) return widths;
  }
}
