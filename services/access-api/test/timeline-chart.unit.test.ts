import { describe, expect, it } from 'vitest';
import { chartLayout, timelineChartSvg, renderTimelineChart, MAX_LANES, type ChartSeries } from '../src/html/timeline-chart.ts';

const DAY = 86_400_000;
/** `n` instants spread evenly from `from` over `days` days. */
function spread(n: number, from: string, days: number): string[] {
  const start = Date.parse(from);
  return Array.from({ length: n }, (_, i) => new Date(start + (n === 1 ? 0 : (i / (n - 1)) * days * DAY)).toISOString());
}

/**
 * A tiny XML well-formedness check (no XML parser in node_modules): tags balance and nest, every
 * attribute is quoted, no attribute twice, `&` only starts an entity, no `<` in text.
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/gy;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = token.exec(xml)) !== null) {
    const [, close, name, attrs, selfClose, text, stray] = m;
    if (stray) throw new Error(`stray or malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(text)) throw new Error(`bare & in text: ${text}`);
      if (stack.length === 0 && text.trim()) throw new Error('text outside the root');
      continue;
    }
    const names = [...(attrs ?? '').matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => {
      if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(a[2]!)) throw new Error(`bare & in attribute ${a[1]}`);
      return a[1]!;
    });
    if (new Set(names).size !== names.length) throw new Error(`attribute twice in <${name}>`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> does not close the open element`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  if (token.lastIndex !== 0 && token.lastIndex !== xml.length) throw new Error('unparsed rest');
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  expect(roots).toBe(1);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('chartLayout: the period per column', () => {
  it('one day: days, padded to at least 6 columns', () => {
    const l = chartLayout({ lang: 'da', series: [{ label: 'A', times: spread(5, '2026-03-10T08:00:00Z', 0.3) }] });
    expect(l.granularity).toBe('day');
    expect(l.buckets.length).toBeGreaterThanOrEqual(6);
    expect(l.buckets.length).toBeLessThanOrEqual(24);
    expect(l.rows[0]!.counts.filter((c) => c > 0)).toEqual([5]);
    expect(l.buckets.at(-1)!.key).toBe('2026-03-10'); // without `now`, padded before the data
  });

  it('one day with now a day later: pads after the data up to now first', () => {
    const l = chartLayout({ lang: 'en', series: [{ label: 'A', times: ['2026-03-10T08:00:00Z'] }], now: new Date('2026-03-11T12:00:00Z') });
    expect(l.buckets.map((b) => b.key).slice(-2)).toEqual(['2026-03-10', '2026-03-11']);
    expect(l.buckets).toHaveLength(6);
  });

  it('three weeks: days', () => {
    const l = chartLayout({ lang: 'da', series: [{ label: 'A', times: spread(30, '2026-02-02T09:00:00Z', 20) }] });
    expect(l.granularity).toBe('day');
    expect(l.buckets).toHaveLength(21);
  });

  it('two months: weeks starting on Monday in Copenhagen', () => {
    const l = chartLayout({ lang: 'da', series: [{ label: 'A', times: spread(30, '2026-02-04T09:00:00Z', 60) }] });
    expect(l.granularity).toBe('week');
    expect(new Date(`${l.buckets[0]!.key}T12:00:00Z`).getUTCDay()).toBe(1);
    expect(l.buckets[0]!.start).toBe('2026-02-01T23:00:00.000Z'); // Monday 2 Feb 00:00 CET
  });

  it('fourteen months: months, with Danish and English month names', () => {
    const times = spread(100, '2025-01-15T12:00:00Z', 420);
    const da = chartLayout({ lang: 'da', series: [{ label: 'A', times }] });
    expect(da.granularity).toBe('month');
    expect(da.buckets).toHaveLength(15);
    expect(da.buckets[0]!.tick).toBe('jan. 2025');
    expect(da.buckets[4]!.tick).toBe('maj 2025');
    const en = chartLayout({ lang: 'en', series: [{ label: 'A', times }] });
    expect(en.buckets[0]!.tick).toBe('Jan 2025');
    expect(en.buckets.map((b) => b.key)).toEqual(da.buckets.map((b) => b.key));
  });

  it('six years: quarters', () => {
    const l = chartLayout({ lang: 'en', series: [{ label: 'A', times: spread(200, '2020-01-10T12:00:00Z', 6 * 365) }] });
    expect(l.granularity).toBe('quarter');
    expect(l.buckets.length).toBeGreaterThanOrEqual(20);
    expect(l.buckets.length).toBeLessThanOrEqual(25);
    expect(l.buckets[0]!.tick).toBe('Q1 2020');
    expect(chartLayout({ lang: 'da', series: [{ label: 'A', times: ['2020-01-10T12:00:00Z'] }], now: new Date('2025-12-01T00:00:00Z') }).buckets[0]!.tick).toBe('1. kvt. 2020');
  });
});

describe('chartLayout: counts', () => {
  it('the cells sum to the input, per row and in all', () => {
    const series: ChartSeries[] = [
      { label: 'A', times: spread(37, '2025-01-01T00:00:00Z', 400) },
      { label: 'B', times: spread(11, '2025-06-01T00:00:00Z', 100) },
      { label: 'C', times: spread(3, '2025-12-31T23:59:59Z', 0) },
    ];
    const l = chartLayout({ lang: 'da', series });
    expect(l.total).toBe(51);
    expect(sum(l.rows.map((r) => sum(r.counts)))).toBe(51);
    for (const r of l.rows) expect(sum(r.counts)).toBe(r.total);
    expect(l.rows.map((r) => r.label)).toEqual(['A', 'B', 'C']);
    for (const r of l.rows) expect(r.counts).toHaveLength(l.buckets.length);
  });

  it('Europe/Copenhagen month boundary: 23:30 UTC on the last day of a month is the next month', () => {
    const l = chartLayout({
      lang: 'en',
      series: [{ label: 'A', times: ['2026-01-31T23:30:00Z', '2026-01-31T22:30:00Z', '2026-06-30T22:30:00Z', '2025-03-31T21:30:00Z'] }],
    });
    expect(l.granularity).toBe('month');
    const count = (key: string) => l.rows[0]!.counts[l.buckets.findIndex((b) => b.key === key)];
    expect(count('2026-02')).toBe(1); // 00:30 CET on 1 February
    expect(count('2026-01')).toBe(1); // 23:30 CET on 31 January
    expect(count('2026-07')).toBe(1); // 00:30 CEST on 1 July
    expect(count('2025-03')).toBe(1); // 23:30 CEST on 31 March
    // Boundaries are local midnights: 1 February 00:00 CET, 1 July 00:00 CEST.
    expect(l.buckets.find((b) => b.key === '2026-02')!.start).toBe('2026-01-31T23:00:00.000Z');
    expect(l.buckets.find((b) => b.key === '2026-07')!.start).toBe('2026-06-30T22:00:00.000Z');
  });

  it('more than 8 recipients: the first 7 by count and "Andre modtagere" holding the rest', () => {
    const series: ChartSeries[] = Array.from({ length: 12 }, (_, i) => ({ label: `R${String(i).padStart(2, '0')}`, times: spread(20 - i, '2025-01-01T12:00:00Z', 200), flagged: i === 10 ? 2 : 0 }));
    const l = chartLayout({ lang: 'da', series: series.reverse() });
    expect(l.rows).toHaveLength(MAX_LANES);
    expect(l.rows.slice(0, 7).map((r) => r.label)).toEqual(['R00', 'R01', 'R02', 'R03', 'R04', 'R05', 'R06']);
    const other = l.rows[7]!;
    expect(other).toMatchObject({ label: 'Andre modtagere', merged: true, recipients: 5, total: 13 + 12 + 11 + 10 + 9, flagged: 2 });
    expect(sum(other.counts)).toBe(other.total);
    expect(l.recipientCount).toBe(12);
    expect(chartLayout({ lang: 'en', series }).rows[7]!.label).toBe('Other recipients');
    // Exactly 8: no merging.
    expect(chartLayout({ lang: 'en', series: series.slice(0, 8) }).rows.every((r) => !r.merged)).toBe(true);
  });

  it('no disclosures: an empty layout that says so', () => {
    const l = chartLayout({ lang: 'da', series: [{ label: 'A', times: [] }] });
    expect(l).toMatchObject({ total: 0, rows: [], buckets: [], summary: 'Ingen videregivelser.' });
    assertWellFormedXml(timelineChartSvg(l));
  });

  it('refuses a time that is not an instant', () => {
    expect(() => chartLayout({ lang: 'da', series: [{ label: 'A', times: ['yesterday'] }] })).toThrow(RangeError);
  });
});

describe('summary in words', () => {
  const series: ChartSeries[] = [
    { label: 'Nets DanID A/S', times: spread(80, '2025-01-05T12:00:00Z', 300) },
    { label: 'Skattestyrelsen', times: spread(40, '2025-03-05T12:00:00Z', 300), flagged: 4 },
    { label: 'KMD', times: spread(10, '2025-06-05T12:00:00Z', 300) },
    { label: 'Udbetaling Danmark', times: spread(8, '2026-01-05T12:00:00Z', 300) },
    { label: 'Region Syddanmark', times: spread(4, '2026-01-05T12:00:00Z', 320) },
  ];
  it('Danish', () => {
    expect(chartLayout({ lang: 'da', series }).summary).toBe(
      '142 videregivelser til 5 modtagere fra jan. 2025 til nov. 2026; flest til Nets DanID A/S (80); 4 ikke dækket af privatlivspolitikken eller dit samtykke.',
    );
  });
  it('English', () => {
    expect(chartLayout({ lang: 'en', series }).summary).toBe(
      '142 disclosures to 5 recipients from Jan 2025 to Nov 2026; most to Nets DanID A/S (80); 4 not covered by the privacy notice or your consent.',
    );
  });
  it('singular, one month, thousands separators', () => {
    expect(chartLayout({ lang: 'da', series: [{ label: 'A', times: ['2026-05-02T10:00:00Z'] }] }).summary).toBe('1 videregivelse til 1 modtager i maj 2026.');
    expect(chartLayout({ lang: 'en', series: [{ label: 'A', times: spread(1234, '2026-05-02T10:00:00Z', 20) }] }).summary).toMatch(/^1,234 disclosures to 1 recipient in May 2026\.$/);
    expect(chartLayout({ lang: 'da', series: [{ label: 'A', times: spread(1234, '2026-05-02T10:00:00Z', 20) }] }).summary).toMatch(/^1\.234 videregivelser/);
  });
});

describe('SVG and table', () => {
  const evil = `<script>alert("x")</script> & 'Co'`;
  const input = {
    lang: 'da' as const,
    series: [
      { label: evil, times: spread(30, '2025-01-01T12:00:00Z', 400), flagged: 2 },
      { label: 'Nets DanID A/S', times: spread(50, '2025-01-01T12:00:00Z', 400) },
      ...Array.from({ length: 9 }, (_, i) => ({ label: `Modtager ${i} æøå`, times: spread(3 + i, '2025-02-01T12:00:00Z', 300) })),
    ],
  };
  const { layout, svg, table, seeNumbers } = renderTimelineChart(input, { idPrefix: 'c1' });

  it('is well-formed XML with one <svg> root, role="img" labelled by its title and desc', () => {
    assertWellFormedXml(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* role="img" aria-labelledby="c1-title c1-desc"/);
    expect(svg).toMatch(/viewBox="0 0 320 [\d.]+" width="100%"/);
    expect(svg).toContain(`<title id="c1-title">Videregivelser pr. modtager over tid</title>`);
    expect(svg).toContain(`<desc id="c1-desc">${layout.summary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</desc>`);
    expect(seeNumbers).toBe('Se tallene');
  });

  it('has no style attribute and no <style> element, and no font smaller than 12', () => {
    expect(svg).not.toMatch(/\sstyle=/i);
    expect(svg).not.toMatch(/<style/i);
    for (const m of svg.matchAll(/font-size="([\d.]+)"/g)) expect(Number(m[1])).toBeGreaterThanOrEqual(12);
    expect(table).not.toMatch(/\sstyle=|<style/i);
  });

  it('escapes the labels from data, in the SVG and the table', () => {
    for (const out of [svg, table]) expect(out).not.toContain('<script>');
    // The lane heading is cut to fit 320 units (…); the table has the whole name.
    expect(svg).toMatch(/>! &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/scri[^<]*…<\/text>/);
    expect(table).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;');
    assertWellFormedXml(table);
  });

  it('marks the flagged lane by more than colour: hatching, outline, ! and words; the legend explains', () => {
    expect(svg).toContain('fill="url(#c1-hatch)"');
    expect(svg).toMatch(/class="sb-chart__label"[^>]*>! &lt;script/);
    expect(svg).toContain('2 ikke dækket – se forklaringen nedenfor');
    expect(svg).toContain('Skraveret, rødt kantet stykke af en søjle og !');
  });

  it('writes each non-empty count and each lane total; the table holds the same numbers', () => {
    const counts = [...svg.matchAll(/class="sb-chart__count"[^>]*>(\d+)</g)].map((m) => Number(m[1]));
    expect(sum(counts)).toBe(layout.total);
    expect([...svg.matchAll(/class="sb-chart__total"[^>]*>I alt: (\d+)</g)].map((m) => Number(m[1]))).toEqual(layout.rows.map((r) => r.total));
    expect(table).toContain('<caption id="c1-caption">');
    expect((table.match(/<th scope="col">/g) ?? []).length).toBe(layout.buckets.length + 2);
    expect((table.match(/<th scope="row">/g) ?? []).length).toBe(layout.rows.length + 1);
    expect(table).toContain(`<td>${layout.total}</td></tr></tfoot>`);
    expect(table).toContain('Andre modtagere (4 modtagere)');
  });
});

describe('flagged per disclosure (flaggedTimes)', () => {
  // Akamai: four disclosures in four months, one of them not covered; only that month's bar is hatched.
  const times = ['2025-09-10T10:00:00Z', '2025-12-10T10:00:00Z', '2026-03-10T10:00:00Z', '2026-03-20T10:00:00Z'];
  const layout = chartLayout({ lang: 'da', series: [{ label: 'Akamai', times, flaggedTimes: ['2026-03-20T10:00:00Z'] }] });

  it('counts the flagged ones per bucket, and the lane total', () => {
    const row = layout.rows[0]!;
    expect(row.flagged).toBe(1);
    expect(layout.granularity).toBe('month');
    expect(row.counts).toEqual([1, 0, 0, 1, 0, 0, 2]);
    expect(row.flaggedCounts).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it('hatches only the flagged part of a bar: one hatched rect, half the height of its month', () => {
    const svg = timelineChartSvg(layout, { idPrefix: 'f' });
    const hatched = [...svg.matchAll(/<rect class="sb-chart__bar sb-chart__bar--flagged"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    const solid = [...svg.matchAll(/<rect class="sb-chart__bar" [^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(hatched).toHaveLength(1);
    expect(solid).toHaveLength(3); // September, December, and March's declared half
    expect(hatched[0]).toBeCloseTo(solid[2]!, 0); // March holds two: its flagged half is as tall as one disclosure
    expect(solid.every((h) => Math.abs(h - solid[0]!) < 0.1)).toBe(true);
  });

  it('a lane with only a flagged total (no instants) is hatched whole, as before', () => {
    const whole = timelineChartSvg(chartLayout({ lang: 'en', series: [{ label: 'X', times, flagged: 1 }] }));
    expect(whole).not.toContain('<rect class="sb-chart__bar" ');
    expect((whole.match(/sb-chart__bar--flagged/g) ?? []).length).toBe(3);
  });
});
