/**
 * "Disclosures per recipient over time": the chart at the top of a citizen's report.
 *
 * Pure functions, no I/O, no clock unless `now` is given:
 * - `chartLayout(input)` counts the disclosures per recipient and period (periods of a day, a week,
 *   a month or a quarter, chosen from the span so there are about 6–24 columns; boundaries at
 *   midnight in Europe/Copenhagen), sorts recipients by count and merges all but the first 7 into
 *   "Andre modtagere" / "Other recipients" when there are more than 8.
 * - `timelineChartSvg(layout)` draws it as SVG: one lane per recipient, its name above the lane (so
 *   it fits a 360 px screen), a bar per period whose height encodes the count, the count written
 *   over each non-empty bar, the lane's total, a time axis. `role="img"` with a `<title>` and a
 *   `<desc>` that say the same in words. No `style` attribute and no `<style>` element (the CSP's
 *   style-src 'self'): presentation attributes, and classes styled from public/chart.css.
 * - `timelineChartTable(layout)` gives the same numbers as a plain HTML table, for a
 *   `<details>` "Se tallene" / "See the numbers" under the chart.
 * The PDF (src/pdf/report-pdf.ts) draws the chart from the same layout.
 */

export type ChartLang = 'da' | 'en';
export type Granularity = 'day' | 'week' | 'month' | 'quarter' | 'year';

export interface ChartSeries {
  label: string;
  /** ISO 8601 instants, one per disclosure. */
  times: string[];
  /** How many of them are not covered by the privacy notice (the lane is marked). */
  flagged?: number;
  /** Which of them are not covered (their instants, a subset of `times`): each bar shows its flagged part. Overrides `flagged`. */
  flaggedTimes?: string[];
}

export interface ChartInput {
  lang: ChartLang;
  series: ChartSeries[];
  /** When given, the columns reach up to now (a quiet recent period is shown as empty). */
  now?: Date;
}

export interface ChartBucket {
  /** A stable key: 2026-01-05 (day, or the Monday of a week), 2026-01, 2026-Q1, 2026. */
  key: string;
  /** First instant of the period (midnight in Copenhagen, as UTC ISO). */
  start: string;
  /** First instant after the period. */
  end: string;
  /** Short label for the axis: "5. jan." / "5 Jan", "jan. 2026" / "Jan 2026", "1. kvt. 2026" / "Q1 2026". */
  tick: string;
  /** Full label for the table: adds the year to days and weeks. */
  label: string;
}

export interface ChartRow {
  label: string;
  /** One count per bucket. */
  counts: number[];
  /** Per bucket, how many of its disclosures are flagged (zeros when only a lane total was given). */
  flaggedCounts: number[];
  total: number;
  flagged: number;
  /** For the merged row: how many recipients it holds (otherwise 1). */
  recipients: number;
  merged: boolean;
}

export interface ChartLayout {
  lang: ChartLang;
  granularity: Granularity;
  buckets: ChartBucket[];
  rows: ChartRow[];
  total: number;
  flagged: number;
  recipientCount: number;
  /** Largest count in one cell (0 when empty): the bar scale. */
  maxCount: number;
  title: string;
  /** The chart in words, for `<desc>` and the PDF's alternative text. */
  summary: string;
}

/** At most this many lanes: beyond, the smallest recipients are merged into one lane. */
export const MAX_LANES = 8;
const MIN_COLUMNS = 6;
const MAX_COLUMNS = 24;
const ZONE = 'Europe/Copenhagen';

const MONTHS: Record<ChartLang, readonly string[]> = {
  da: ['jan.', 'feb.', 'mar.', 'apr.', 'maj', 'jun.', 'jul.', 'aug.', 'sep.', 'okt.', 'nov.', 'dec.'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

const TEXT = {
  da: {
    title: 'Videregivelser pr. modtager over tid',
    other: 'Andre modtagere',
    recipient: 'Modtager',
    total: 'I alt',
    none: 'Ingen videregivelser.',
    disclosures: (n: number) => (n === 1 ? 'videregivelse' : 'videregivelser'),
    recipients: (n: number) => (n === 1 ? 'modtager' : 'modtagere'),
    most: 'flest til',
    from: 'fra',
    to: 'til',
    in: 'i',
    flagged: (n: number) => `${fmt('da', n)} ikke dækket af privatlivspolitikken eller dit samtykke`,
    flaggedMark: (n: number) => `${fmt('da', n)} ikke dækket – se forklaringen nedenfor`,
    legendBars: (g: Granularity) => `Søjlens højde og tallet over den: antal videregivelser pr. ${PERIOD.da[g]}.`,
    legendFlag: 'Skraveret, rødt kantet stykke af en søjle og ! foran navnet: videregivelser, der ikke er omfattet af privatlivspolitikken eller dit samtykke.',
    seeNumbers: 'Se tallene',
    caption: (g: Granularity) => `Antal videregivelser pr. modtager og ${PERIOD.da[g]}`,
    mergedOf: (n: number) => `(${n} modtagere)`,
    week: (w: number, y: number) => `uge ${w} ${y}`,
  },
  en: {
    title: 'Disclosures per recipient over time',
    other: 'Other recipients',
    recipient: 'Recipient',
    total: 'Total',
    none: 'No disclosures.',
    disclosures: (n: number) => (n === 1 ? 'disclosure' : 'disclosures'),
    recipients: (n: number) => (n === 1 ? 'recipient' : 'recipients'),
    most: 'most to',
    from: 'from',
    to: 'to',
    in: 'in',
    flagged: (n: number) => `${fmt('en', n)} not covered by the privacy notice or your consent`,
    flaggedMark: (n: number) => `${fmt('en', n)} not covered – see why below`,
    legendBars: (g: Granularity) => `Bar height and the number above it: disclosures per ${PERIOD.en[g]}.`,
    legendFlag: 'A hatched, red-edged part of a bar and ! before the name: disclosures not covered by the privacy notice or your consent.',
    seeNumbers: 'See the numbers',
    caption: (g: Granularity) => `Disclosures per recipient and ${PERIOD.en[g]}`,
    mergedOf: (n: number) => `(${n} recipients)`,
    week: (w: number, y: number) => `Week ${w} ${y}`,
  },
} as const;

const PERIOD: Record<ChartLang, Record<Granularity, string>> = {
  da: { day: 'dag', week: 'uge', month: 'måned', quarter: 'kvartal', year: 'år' },
  en: { day: 'day', week: 'week', month: 'month', quarter: 'quarter', year: 'year' },
};

/** The words the page needs around the chart ("Se tallene" / "See the numbers"). */
export function chartText(lang: ChartLang): { title: string; seeNumbers: string; legendBars: (g: Granularity) => string; legendFlag: string } {
  const t = TEXT[lang];
  return { title: t.title, seeNumbers: t.seeNumbers, legendBars: t.legendBars, legendFlag: t.legendFlag };
}

/** "3 ikke omfattet af privatlivspolitikken" / "3 not covered by the privacy notice". */
export function flaggedWords(lang: ChartLang, n: number): string {
  return TEXT[lang].flaggedMark(n);
}

/** A whole number with the language's thousands separator: 1.234 (da), 1,234 (en). */
export function fmt(lang: ChartLang, n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'da' ? '.' : ',');
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic in Europe/Copenhagen. A "civil date" is a day number: days since 1970-01-01
// of the local calendar date, so adding days never meets a DST gap.

const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

interface Civil { y: number; m: number; d: number }

function localParts(ms: number): Civil & { h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of partsFormat.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p['year']!, m: p['month']!, d: p['day']!, h: p['hour']!, mi: p['minute']!, s: p['second']! };
}

const dayNumber = (c: Civil): number => Math.floor(Date.UTC(c.y, c.m - 1, c.d) / 86_400_000);
function civil(day: number): Civil {
  const dt = new Date(day * 86_400_000);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

/** The instant of local midnight starting `day` in Copenhagen. */
function midnightUtc(day: number): number {
  const c = civil(day);
  const wall = Date.UTC(c.y, c.m - 1, c.d);
  let guess = wall;
  for (let i = 0; i < 3; i++) {
    const l = localParts(guess);
    const offset = Date.UTC(l.y, l.m - 1, l.d, l.h, l.mi, l.s) - guess;
    const next = wall - offset;
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

const isoDate = (c: Civil) => `${String(c.y).padStart(4, '0')}-${String(c.m).padStart(2, '0')}-${String(c.d).padStart(2, '0')}`;

/** The first day of the period `day` falls in. */
function periodStart(g: Granularity, day: number): number {
  const c = civil(day);
  switch (g) {
    case 'day': return day;
    case 'week': return day - ((new Date(day * 86_400_000).getUTCDay() + 6) % 7); // back to Monday
    case 'month': return dayNumber({ y: c.y, m: c.m, d: 1 });
    case 'quarter': return dayNumber({ y: c.y, m: c.m - ((c.m - 1) % 3), d: 1 });
    case 'year': return dayNumber({ y: c.y, m: 1, d: 1 });
  }
}

function nextPeriod(g: Granularity, start: number): number {
  const c = civil(start);
  switch (g) {
    case 'day': return start + 1;
    case 'week': return start + 7;
    case 'month': return dayNumber({ y: c.m === 12 ? c.y + 1 : c.y, m: c.m === 12 ? 1 : c.m + 1, d: 1 });
    case 'quarter': return dayNumber({ y: c.m >= 10 ? c.y + 1 : c.y, m: c.m >= 10 ? c.m - 9 : c.m + 3, d: 1 });
    case 'year': return dayNumber({ y: c.y + 1, m: 1, d: 1 });
  }
}

function prevPeriod(g: Granularity, start: number): number {
  return periodStart(g, start - 1);
}

function isoWeek(day: number): { week: number; year: number } {
  const thursday = day - ((new Date(day * 86_400_000).getUTCDay() + 6) % 7) + 3;
  const year = civil(thursday).y;
  const firstThursday = dayNumber({ y: year, m: 1, d: 1 });
  return { week: Math.floor((thursday - firstThursday) / 7) + 1, year };
}

function monthYear(lang: ChartLang, c: Civil): string {
  return `${MONTHS[lang][c.m - 1]} ${c.y}`;
}

function dayMonth(lang: ChartLang, c: Civil): string {
  return lang === 'da' ? `${c.d}. ${MONTHS.da[c.m - 1]}` : `${c.d} ${MONTHS.en[c.m - 1]}`;
}

function bucketFor(lang: ChartLang, g: Granularity, start: number): ChartBucket {
  const c = civil(start);
  const end = nextPeriod(g, start);
  const base = { start: new Date(midnightUtc(start)).toISOString(), end: new Date(midnightUtc(end)).toISOString() };
  switch (g) {
    case 'day':
      return { ...base, key: isoDate(c), tick: dayMonth(lang, c), label: `${dayMonth(lang, c)} ${c.y}` };
    case 'week': {
      const w = isoWeek(start);
      return { ...base, key: isoDate(c), tick: dayMonth(lang, c), label: `${TEXT[lang].week(w.week, w.year)} (${dayMonth(lang, c)})` };
    }
    case 'month':
      return { ...base, key: `${c.y}-${String(c.m).padStart(2, '0')}`, tick: monthYear(lang, c), label: monthYear(lang, c) };
    case 'quarter': {
      const q = Math.floor((c.m - 1) / 3) + 1;
      const text = lang === 'da' ? `${q}. kvt. ${c.y}` : `Q${q} ${c.y}`;
      return { ...base, key: `${c.y}-Q${q}`, tick: text, label: text };
    }
    case 'year':
      return { ...base, key: String(c.y), tick: String(c.y), label: String(c.y) };
  }
}

function countPeriods(g: Granularity, first: number, last: number): number {
  let n = 0;
  for (let p = periodStart(g, first); p <= last && n <= MAX_COLUMNS + 1; p = nextPeriod(g, p)) n++;
  return n;
}

/** The finest period that gives at most 24 columns (years only past 24 quarters). */
function chooseGranularity(firstDay: number, lastDay: number): Granularity {
  for (const g of ['day', 'week', 'month', 'quarter'] as const) {
    if (countPeriods(g, firstDay, lastDay) <= MAX_COLUMNS) return g;
  }
  return countPeriods('quarter', firstDay, lastDay) <= MAX_COLUMNS + 8 ? 'quarter' : 'year';
}

// ---------------------------------------------------------------------------------------------

export function chartLayout(input: ChartInput): ChartLayout {
  const { lang } = input;
  const t = TEXT[lang];
  const parsed = input.series.map((s) => ({
    label: s.label,
    flagged: Math.max(0, Math.min(s.flaggedTimes?.length ?? s.flagged ?? 0, s.times.length)),
    flaggedMs: (s.flaggedTimes ?? []).map((iso) => {
      const ms = Date.parse(iso);
      if (Number.isNaN(ms)) throw new RangeError(`not an ISO instant: ${JSON.stringify(iso)}`);
      return ms;
    }),
    ms: s.times.map((iso) => {
      const ms = Date.parse(iso);
      if (Number.isNaN(ms)) throw new RangeError(`not an ISO instant: ${JSON.stringify(iso)}`);
      return ms;
    }),
  })).filter((s) => s.ms.length > 0);

  const all = parsed.flatMap((s) => s.ms);
  if (all.length === 0) {
    return { lang, granularity: 'month', buckets: [], rows: [], total: 0, flagged: 0, recipientCount: 0, maxCount: 0, title: t.title, summary: t.none };
  }
  let minMs = all[0]!;
  let maxMs = all[0]!;
  for (const ms of all) {
    if (ms < minMs) minMs = ms;
    if (ms > maxMs) maxMs = ms;
  }
  const day = (ms: number) => dayNumber(localParts(ms));
  const firstDay = day(minMs);
  const lastData = day(maxMs);
  const nowDay = input.now ? day(input.now.getTime()) : lastData;
  const lastDay = Math.max(lastData, nowDay);

  const g = chooseGranularity(firstDay, lastDay);
  const starts: number[] = [];
  for (let p = periodStart(g, firstDay); p <= lastDay; p = nextPeriod(g, p)) starts.push(p);
  // Too few columns (a short span): pad with empty periods, after the data up to now, then before.
  while (starts.length < MIN_COLUMNS && g === 'day') {
    const after = nextPeriod(g, starts.at(-1)!);
    if (input.now && after <= nowDay) starts.push(after);
    else starts.unshift(prevPeriod(g, starts[0]!));
  }
  const index = new Map(starts.map((s, i) => [s, i]));

  const counted = parsed.map((s) => {
    const counts = new Array<number>(starts.length).fill(0);
    for (const ms of s.ms) {
      const i = index.get(periodStart(g, day(ms)))!;
      counts[i]! += 1;
    }
    const flaggedCounts = new Array<number>(starts.length).fill(0);
    for (const ms of s.flaggedMs) {
      const i = index.get(periodStart(g, day(ms)));
      if (i !== undefined && flaggedCounts[i]! < counts[i]!) flaggedCounts[i]! += 1;
    }
    return { label: s.label, counts, flaggedCounts, total: s.ms.length, flagged: s.flagged, recipients: 1, merged: false };
  });
  // Same label twice (two series for one recipient): one lane.
  const byLabel = new Map<string, ChartRow>();
  for (const r of counted) {
    const prev = byLabel.get(r.label);
    if (!prev) byLabel.set(r.label, r);
    else {
      prev.counts = prev.counts.map((c, i) => c + r.counts[i]!);
      prev.flaggedCounts = prev.flaggedCounts.map((c, i) => c + r.flaggedCounts[i]!);
      prev.total += r.total;
      prev.flagged += r.flagged;
    }
  }
  const collator = new Intl.Collator(lang === 'da' ? 'da-DK' : 'en-GB');
  const sorted = [...byLabel.values()].sort((a, b) => b.total - a.total || collator.compare(a.label, b.label));

  let rows: ChartRow[] = sorted;
  if (sorted.length > MAX_LANES) {
    const rest = sorted.slice(MAX_LANES - 1);
    rows = [...sorted.slice(0, MAX_LANES - 1), {
      label: t.other,
      counts: starts.map((_, i) => rest.reduce((sum, r) => sum + r.counts[i]!, 0)),
      flaggedCounts: starts.map((_, i) => rest.reduce((sum, r) => sum + r.flaggedCounts[i]!, 0)),
      total: rest.reduce((sum, r) => sum + r.total, 0),
      flagged: rest.reduce((sum, r) => sum + r.flagged, 0),
      recipients: rest.length,
      merged: true,
    }];
  }

  const total = all.length;
  const flagged = sorted.reduce((sum, r) => sum + r.flagged, 0);
  const maxCount = Math.max(0, ...rows.flatMap((r) => r.counts));
  const top = sorted[0]!;
  const firstMonth = monthYear(lang, civil(firstDay));
  const lastMonth = monthYear(lang, civil(lastData));
  const when = firstMonth === lastMonth ? `${t.in} ${firstMonth}` : `${t.from} ${firstMonth} ${t.to} ${lastMonth}`;
  let summary = `${fmt(lang, total)} ${t.disclosures(total)} ${t.to} ${fmt(lang, sorted.length)} ${t.recipients(sorted.length)} ${when}`;
  if (sorted.length > 1) summary += `; ${t.most} ${top.label} (${fmt(lang, top.total)})`;
  if (flagged > 0) summary += `; ${t.flagged(flagged)}`;
  summary += '.';

  return {
    lang, granularity: g, buckets: starts.map((s) => bucketFor(lang, g, s)), rows, total, flagged,
    recipientCount: sorted.length, maxCount, title: t.title, summary,
  };
}

// ---------------------------------------------------------------------------------------------
// SVG

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escapes text for HTML and XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * Colours, all on white (#ffffff): text #1a1a1a (17:1); bars #1f5fa8 (6.4:1); the flag's red
 * #b3261e (6.5:1) for the hatching, the outline and the "!"; axis #595959 (7:1). Above the 3:1 for
 * graphics and the 4.5:1 for text of WCAG 2.1 AA 1.4.11 / 1.4.3. Flagged lanes are never told by
 * colour alone: hatched bars, an outline, a "!" and the words in the lane's heading.
 */
export const CHART_COLOURS = { background: '#ffffff', text: '#1a1a1a', bar: '#1f5fa8', flag: '#b3261e', axis: '#595959', grid: '#d0d0d0' } as const;

/** The drawing's geometry in viewBox units (1 unit = 1 px when the chart is 320 px wide). */
export const CHART_GEOMETRY: ChartSizes = {
  width: 320, pad: 6, fontSize: 12, labelSize: 13, laneLabel: 18, barMax: 34, countRoom: 20, laneGap: 10, axis: 30, legendLine: 16,
};

/** The sizes a drawing of the layout is made with (the PDF uses points and smaller type). */
export interface ChartSizes {
  width: number; pad: number; fontSize: number; labelSize: number; laneLabel: number; barMax: number;
  countRoom: number; laneGap: number; axis: number; legendLine: number;
}

/** A rough text width for Helvetica/Arial-like fonts: enough to decide where text fits. */
export function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += /[il.,:;'|!]/.test(ch) ? 0.28 : /[mwMW]/.test(ch) ? 0.85 : /[A-Z0-9ÆØÅ]/.test(ch) ? 0.64 : 0.53;
  return w * size;
}

/** Cuts `s` with "…" so it is at most `max` wide. */
export function fitText(s: string, size: number, max: number): string {
  if (textWidth(s, size) <= max) return s;
  let out = s;
  while (out.length > 1 && textWidth(`${out}…`, size) > max) out = out.slice(0, -1);
  return `${out.trimEnd()}…`;
}

/** Plan shared by the SVG and the PDF: where each lane, bar and tick goes. */
export interface ChartGeometry {
  width: number;
  height: number;
  plotLeft: number;
  plotWidth: number;
  column: number;
  legend: string[];
  /** `fh`: the height of the bar's flagged part, drawn hatched on top (the whole bar when only the lane's total is known). */
  lanes: Array<{ row: ChartRow; heading: string; totalText: string; top: number; baseline: number; bars: Array<{ x: number; w: number; h: number; fh: number; count: number; rotate: boolean }> }>;
  ticks: Array<{ x: number; text: string }>;
  axisY: number;
}

export function chartGeometry(layout: ChartLayout, G: ChartSizes = CHART_GEOMETRY): ChartGeometry {
  const t = TEXT[layout.lang];
  const plotLeft = G.pad;
  const plotWidth = G.width - 2 * G.pad;
  const n = Math.max(1, layout.buckets.length);
  const column = plotWidth / n;
  const legend = [t.legendBars(layout.granularity)];
  if (layout.flagged > 0) legend.push(t.legendFlag);
  const legendLines = legend.flatMap((l) => wrapWords(l, G.fontSize, G.width - 2 * G.pad));
  let y = G.pad + legendLines.length * G.legendLine + 6;
  const lanes = layout.rows.map((row) => {
    const totalText = `${t.total}: ${fmt(layout.lang, row.total)}`;
    const mark = row.flagged > 0 ? '! ' : '';
    const name = row.merged ? `${row.label} ${t.mergedOf(row.recipients)}` : row.label;
    // The estimate is Helvetica's; the browser may draw a wider sans (DejaVu Sans is ~15 % wider) and
    // bold adds more: room for the widest, so a long name never runs into its lane's total.
    const heading = mark + fitText(name, G.labelSize * 1.3, plotWidth - textWidth(totalText, G.fontSize) * 1.15 - 16);
    const top = y;
    const baseline = top + G.laneLabel + G.countRoom + G.barMax;
    const bars = row.counts.map((count, i) => {
      const w = Math.max(2, Math.min(column * 0.7, 28));
      const h = count === 0 || layout.maxCount === 0 ? 0 : Math.max(2, (count / layout.maxCount) * G.barMax);
      const rotate = textWidth(fmt(layout.lang, count), G.fontSize) > column - 1;
      // Per disclosure when the flagged instants are known; otherwise a flagged lane's bars are hatched whole.
      const perCell = row.flaggedCounts.some((c) => c > 0);
      const fh = count === 0 ? 0 : perCell ? (h * row.flaggedCounts[i]!) / count : row.flagged > 0 ? h : 0;
      return { x: plotLeft + i * column + (column - w) / 2, w, h, fh, count, rotate };
    });
    y = baseline + G.laneGap;
    return { row, heading, totalText, top, baseline, bars };
  });
  const axisY = y;
  const tickWidth = Math.max(0, ...layout.buckets.map((b) => textWidth(b.tick, G.fontSize))) + 8;
  const step = Math.max(1, Math.ceil(tickWidth / column));
  const ticks = layout.buckets
    .map((b, i) => ({ i, x: plotLeft + (i + 0.5) * column, text: b.tick }))
    .filter(({ i }) => i % step === 0)
    // The last tick must not run past the right edge.
    .filter(({ x, text }) => x - textWidth(text, G.fontSize) / 2 >= 0 && x + textWidth(text, G.fontSize) / 2 <= G.width);
  return { width: G.width, height: axisY + G.axis, plotLeft, plotWidth, column, legend: legendLines, lanes, ticks, axisY };
}

function wrapWords(text: string, size: number, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size) > max) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

const r1 = (n: number) => String(Math.round(n * 10) / 10);

export interface SvgOptions {
  /** Prefix of the ids in the SVG (title, desc, pattern): unique per page. */
  idPrefix?: string;
}

export function timelineChartSvg(layout: ChartLayout, options: SvgOptions = {}): string {
  const id = options.idPrefix ?? 'sb-chart';
  const G = CHART_GEOMETRY;
  const C = CHART_COLOURS;
  const geo = chartGeometry(layout);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sb-chart" viewBox="0 0 ${geo.width} ${r1(geo.height)}" width="100%" ` +
      `preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="${G.fontSize}" fill="${C.text}">`,
    `<title id="${id}-title">${escapeXml(layout.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(layout.summary)}</desc>`,
    `<defs><pattern id="${id}-hatch" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">` +
      `<rect width="5" height="5" fill="${C.background}"/><rect width="2.5" height="5" fill="${C.flag}"/></pattern></defs>`,
    `<rect class="sb-chart__bg" width="${geo.width}" height="${r1(geo.height)}" fill="${C.background}"/>`,
  );
  geo.legend.forEach((line, i) => {
    out.push(`<text class="sb-chart__legend" x="${G.pad}" y="${G.pad + (i + 1) * G.legendLine - 4}">${escapeXml(line)}</text>`);
  });
  if (layout.rows.length === 0) {
    out.push(`<text class="sb-chart__text" x="${G.pad}" y="${r1(geo.axisY)}">${escapeXml(layout.summary)}</text></svg>`);
    return out.join('');
  }
  for (const lane of geo.lanes) {
    const flagged = lane.row.flagged > 0;
    const laneClass = flagged ? 'sb-chart__lane sb-chart__lane--flagged' : 'sb-chart__lane';
    out.push(`<g class="${laneClass}">`);
    out.push(
      `<text class="sb-chart__label" x="${G.pad}" y="${r1(lane.top + G.labelSize)}" font-size="${G.labelSize}" font-weight="bold"` +
        `${flagged ? ` fill="${C.flag}"` : ''}>${escapeXml(lane.heading)}</text>`,
      `<text class="sb-chart__total" x="${geo.width - G.pad}" y="${r1(lane.top + G.labelSize)}" text-anchor="end">${escapeXml(lane.totalText)}</text>`,
    );
    if (flagged) {
      const words = TEXT[layout.lang].flaggedMark(lane.row.flagged);
      out.push(`<text class="sb-chart__flag" x="${G.pad}" y="${r1(lane.top + G.laneLabel + G.fontSize - 2)}" fill="${C.flag}">${escapeXml(fitText(words, G.fontSize, geo.plotWidth))}</text>`);
    }
    out.push(`<line class="sb-chart__baseline" x1="${geo.plotLeft}" x2="${r1(geo.plotLeft + geo.plotWidth)}" y1="${r1(lane.baseline)}" y2="${r1(lane.baseline)}" stroke="${C.axis}" stroke-width="1"/>`);
    for (const bar of lane.bars) {
      if (bar.count === 0) continue;
      const y = lane.baseline - bar.h;
      // The declared part solid, the flagged part hatched and outlined on top of it.
      if (bar.h - bar.fh > 0.01) out.push(`<rect class="sb-chart__bar" x="${r1(bar.x)}" y="${r1(y + bar.fh)}" width="${r1(bar.w)}" height="${r1(bar.h - bar.fh)}" fill="${C.bar}"/>`);
      if (bar.fh > 0.01) out.push(`<rect class="sb-chart__bar sb-chart__bar--flagged" x="${r1(bar.x)}" y="${r1(y)}" width="${r1(bar.w)}" height="${r1(bar.fh)}" fill="url(#${id}-hatch)" stroke="${C.flag}" stroke-width="1.5"/>`);
      const cx = bar.x + bar.w / 2;
      const text = escapeXml(fmt(layout.lang, bar.count));
      out.push(
        bar.rotate
          ? `<text class="sb-chart__count" x="${r1(cx + 4)}" y="${r1(y - 3)}" transform="rotate(-90 ${r1(cx + 4)} ${r1(y - 3)})">${text}</text>`
          : `<text class="sb-chart__count" x="${r1(cx)}" y="${r1(y - 3)}" text-anchor="middle">${text}</text>`,
      );
    }
    out.push('</g>');
  }
  out.push(`<g class="sb-chart__axis"><line x1="${geo.plotLeft}" x2="${r1(geo.plotLeft + geo.plotWidth)}" y1="${r1(geo.axisY)}" y2="${r1(geo.axisY)}" stroke="${C.axis}" stroke-width="1"/>`);
  for (const tick of geo.ticks) {
    out.push(
      `<line x1="${r1(tick.x)}" x2="${r1(tick.x)}" y1="${r1(geo.axisY)}" y2="${r1(geo.axisY + 4)}" stroke="${C.axis}" stroke-width="1"/>`,
      `<text x="${r1(tick.x)}" y="${r1(geo.axisY + 4 + G.fontSize)}" text-anchor="middle">${escapeXml(tick.text)}</text>`,
    );
  }
  out.push('</g></svg>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// The same numbers as a table

export function timelineChartTable(layout: ChartLayout, options: SvgOptions = {}): string {
  const id = options.idPrefix ?? 'sb-chart';
  const t = TEXT[layout.lang];
  const n = (x: number) => escapeXml(fmt(layout.lang, x));
  const head = [`<th scope="col">${escapeXml(t.recipient)}</th>`, ...layout.buckets.map((b) => `<th scope="col">${escapeXml(b.label)}</th>`), `<th scope="col">${escapeXml(t.total)}</th>`];
  const body = layout.rows.map((r) => {
    const name = r.merged ? `${r.label} ${t.mergedOf(r.recipients)}` : r.label;
    const flag = r.flagged > 0 ? ` <span class="sb-chart-table__flag">(! ${escapeXml(t.flaggedMark(r.flagged))})</span>` : '';
    return `<tr><th scope="row">${escapeXml(name)}${flag}</th>${r.counts.map((c) => `<td>${n(c)}</td>`).join('')}<td>${n(r.total)}</td></tr>`;
  });
  const totals = layout.buckets.map((_, i) => layout.rows.reduce((s, r) => s + r.counts[i]!, 0));
  const foot = `<tr><th scope="row">${escapeXml(t.total)}</th>${totals.map((c) => `<td>${n(c)}</td>`).join('')}<td>${n(layout.total)}</td></tr>`;
  return (
    `<div class="sb-chart-table-wrap" role="region" tabindex="0" aria-labelledby="${id}-caption">` +
    `<table class="sb-chart-table"><caption id="${id}-caption">${escapeXml(t.caption(layout.granularity))}</caption>` +
    `<thead><tr>${head.join('')}</tr></thead><tbody>${body.join('')}</tbody><tfoot>${foot}</tfoot></table></div>`
  );
}

/** Layout, SVG, table and the words for the `<details>` summary in one call. */
export function renderTimelineChart(input: ChartInput, options: SvgOptions = {}): { layout: ChartLayout; svg: string; table: string; seeNumbers: string } {
  const layout = chartLayout(input);
  return { layout, svg: timelineChartSvg(layout, options), table: timelineChartTable(layout, options), seeNumbers: TEXT[input.lang].seeNumbers };
}
