import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartLayout } from '../src/html/timeline-chart.ts';
import { renderPdf, winAnsi, type PdfDocument } from '../src/pdf/report-pdf.ts';

/**
 * The PDF read back with Debian's poppler-utils (pdftotext, pdftoppm, pdfinfo). Missing tools skip
 * the test locally and fail it in CI.
 */
const hasPoppler = spawnSync('pdftotext', ['-v']).error === undefined;
if (!hasPoppler && process.env['CI'] === 'true') throw new Error('pdftotext (poppler-utils) is missing: apt-get install poppler-utils');
const REPO = resolve(import.meta.dirname, '../../..');

const LONG_WORD = 'Sundhedsdatastyrelsensregisterudtrækskvalitetssikringsprocedurebeskrivelsesdokumentationen';
function sampleDoc(rows: number): PdfDocument {
  const times = (n: number, from: string, days: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(from) + (i / Math.max(1, n - 1)) * days * 86_400_000).toISOString());
  const layout = chartLayout({
    lang: 'da',
    series: [
      { label: 'Nets DanID A/S', times: times(80, '2025-01-10T10:00:00Z', 660) },
      { label: 'Skattestyrelsen', times: times(40, '2025-02-10T10:00:00Z', 600), flagged: 3 },
      { label: 'Udbetaling Danmark', times: times(14, '2025-05-10T10:00:00Z', 400) },
      { label: 'Københavns Kommune – Børne- og Ungdomsforvaltningen', times: times(8, '2025-09-10T10:00:00Z', 300) },
    ],
  });
  return {
    lang: 'da',
    title: 'Hvem har modtaget mine oplysninger – og hvorfor?',
    author: 'Sporbar & Digitaliseringsstyrelsen <test>',
    subject: 'Indsigt efter databeskyttelsesforordningens artikel 15',
    generatedAt: new Date('2026-11-20T09:15:00Z'),
    footer: 'Udskrevet fra Sporbar 20. nov. 2026 kl. 10.15. Kontrollér den på sporbar.example.dk/kontrol',
    blocks: [
      { kind: 'heading', level: 1, text: 'Hvem har modtaget mine oplysninger – og hvorfor?' },
      { kind: 'paragraph', text: 'Her kan du se, hvilke modtagere der har fået oplysninger om dig, til hvilket formål og med hvilken hjemmel. Æbler, øl og ål: ÆØÅ æøå – „citat“ og ’apostrof’.' },
      { kind: 'keyValue', pairs: [['Navn', 'Søren Ærø Åkjær'], ['Periode', '1. jan. 2025 – 20. nov. 2026'], ['Antal videregivelser', '142']] },
      { kind: 'heading', level: 2, text: 'Overblik' },
      { kind: 'chart', layout },
      { kind: 'paragraph', text: 'Tre videregivelser til Skattestyrelsen er ikke omfattet af privatlivspolitikken.', emphasis: 'warning' },
      { kind: 'paragraph', text: 'Du kan klage til Datatilsynet.', emphasis: 'strong' },
      { kind: 'heading', level: 3, text: 'Hvad du kan gøre' },
      { kind: 'list', items: ['Bede om at få rettet forkerte oplysninger.', 'Klage til Datatilsynet.', `Et meget langt ord: ${LONG_WORD}`] },
      { kind: 'heading', level: 2, text: 'Alle videregivelser' },
      {
        kind: 'table',
        caption: 'Videregivelser af dine oplysninger',
        columns: ['Nr.', 'Tidspunkt', 'Modtager', 'Formål', 'Hjemmel'],
        rows: Array.from({ length: rows }, (_, i) => [
          `R${String(i + 1).padStart(4, '0')}`,
          `2026-0${(i % 9) + 1}-1${i % 10} 1${i % 10}:30`,
          i % 7 === 0 ? 'Københavns Kommune – Børne- og Ungdomsforvaltningen, Center for Policy' : 'Nets DanID A/S',
          i === 5 ? LONG_WORD : i % 3 === 0 ? 'Udbetaling af ydelser efter lov om aktiv socialpolitik, herunder kontrol af oplysninger om formue' : 'Log-in med MitID',
          'GDPR art. 6, stk. 1, litra e',
        ]),
      },
    ],
  };
}

describe.skipIf(!hasPoppler)('renderPdf read back with poppler', () => {
  let dir: string;
  let file: string;
  let bytes: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sporbar-pdf-'));
    file = join(dir, 'report.pdf');
    bytes = await renderPdf(sampleDoc(300));
    writeFileSync(file, bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a PDF whose text has the title, headings, Danish letters, every row and the page numbers', () => {
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('Hvem har modtaget mine oplysninger – og hvorfor?'); // the 20 pt title wraps
    for (const h of ['Overblik', 'Hvad du kan gøre', 'Alle videregivelser', 'Videregivelser af dine oplysninger']) expect(text).toContain(h);
    expect(text).toContain('Æbler, øl og ål: ÆØÅ æøå – „citat“ og ’apostrof’.');
    expect(text).toContain('Søren Ærø Åkjær');
    for (let i = 1; i <= 300; i++) expect(text).toContain(`R${String(i).padStart(4, '0')}`);
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
    expect(pages).toBeGreaterThan(5);
    expect(text).toContain(`Side 1 af ${pages}`);
    expect(text).toContain(`Side ${pages} af ${pages}`);
    // The header row is repeated on every page the table continues on.
    const pageTexts = text.split('\f').filter((p) => p.trim());
    expect(pageTexts).toHaveLength(pages);
    const withRows = pageTexts.filter((p) => /R\d{4}/.test(p));
    expect(withRows.length).toBeGreaterThan(3);
    for (const p of withRows) expect(p).toMatch(/Nr\.\s+Tidspunkt\s+Modtager\s+Formål\s+Hjemmel/);
    // The long word is broken across lines, not cut: all its letters are there.
    expect(text.replace(/\s+/g, '')).toContain(LONG_WORD);
    // The chart's words and counts.
    expect(text).toContain('Nets DanID A/S');
    expect(text).toContain('3 ikke dækket – se forklaringen nedenfor');
    expect(text).toContain('I alt: 80');
  });

  it('has its metadata: Title, Author, Subject, pages, tagged, language', () => {
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Title:\s+Hvem har modtaget mine oplysninger – og hvorfor\?/);
    expect(info).toMatch(/Author:\s+Sporbar & Digitaliseringsstyrelsen <test>/);
    expect(info).toMatch(/Subject:\s+Indsigt efter databeskyttelsesforordningens artikel 15/);
    expect(info).toMatch(/Tagged:\s+yes/);
    expect(info).toMatch(/Page size:\s+595\.28 x 841\.89 pts \(A4\)/);
    expect(info).toMatch(/CreationDate:.*2026/);
    expect(bytes.toString('latin1')).toContain('/Lang (da-DK)');
    // The XMP packet stays well-formed with & and < in the author.
    expect(bytes.toString('latin1')).toContain('<rdf:li>Sporbar &amp; Digitaliseringsstyrelsen &lt;test&gt;</rdf:li>');
    expect(bytes.toString('latin1')).toMatch(/\/S \/Table/);
    expect(bytes.toString('latin1')).toMatch(/\/S \/Figure/);
  });

  it('page 1 renders to a PNG (kept, with the PDF, in test-artifacts/)', () => {
    execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', '-singlefile', file, join(dir, 'page1')]);
    const png = readFileSync(join(dir, 'page1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(5_000);
    mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
    copyFileSync(join(dir, 'page1.png'), join(REPO, 'test-artifacts', 'report-pdf-page1.png'));
    copyFileSync(file, join(REPO, 'test-artifacts', 'report-pdf.pdf'));
  });

  it('is deterministic: the same input gives the same bytes', async () => {
    const again = await renderPdf(sampleDoc(300));
    expect(again.equals(bytes)).toBe(true);
    const other = await renderPdf({ ...sampleDoc(300), generatedAt: new Date('2026-11-21T09:15:00Z') });
    expect(other.equals(bytes)).toBe(false);
  });

  it('English: "Page 1 of N"', async () => {
    const en = join(dir, 'en.pdf');
    writeFileSync(en, await renderPdf({ ...sampleDoc(10), lang: 'en', footer: 'Printed from Sporbar' }));
    const text = execFileSync('pdftotext', ['-layout', en, '-'], { encoding: 'utf8' });
    expect(text).toMatch(/Page 1 of \d+/);
  });

  it('renders a 1,000-row report in reasonable time', async () => {
    const doc = sampleDoc(1000);
    const t0 = performance.now();
    const pdf = await renderPdf(doc);
    const ms = performance.now() - t0;
    console.log(`renderPdf: 1,000 table rows → ${(pdf.length / 1024).toFixed(0)} KiB in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(20_000);
  });
});

describe('winAnsi', () => {
  it('keeps Danish letters, dashes and quotes; replaces what the standard fonts cannot show', () => {
    expect(winAnsi('æøå ÆØÅ – — „“ ‘’ … €')).toBe('æøå ÆØÅ – — „“ ‘’ … €');
    expect(winAnsi('Łódź ā 漢 −1')).toBe('?ódz a ? -1');
  });
});
