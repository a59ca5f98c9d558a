/**
 * Retention periods: ISO-8601 durations, deadlines and plain-language descriptions. All calendar
 * arithmetic is in UTC, so the same event gives the same deadline on every machine.
 */
import type { RetentionPeriod, RetentionRule } from './types.ts';

export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const ISO_DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Parses a non-negative ISO-8601 duration (PnYnMnWnDTnHnMnS); null when it is not one. */
export function parseIsoDuration(iso: string): IsoDuration | null {
  const m = ISO_DURATION.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return null;
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/**
 * Adds a duration to an instant. Years and months move the calendar date and clamp to the last day
 * of a shorter month (31 Aug + P6M = 28/29 Feb); the rest is exact elapsed time.
 */
export function addIsoDuration(from: Date, iso: string): Date {
  const d = parseIsoDuration(iso);
  if (d === null) throw new RangeError(`not an ISO-8601 duration: ${iso}`);
  const t = new Date(from.getTime());
  const totalMonths = t.getUTCMonth() + d.months + 12 * d.years;
  const year = t.getUTCFullYear() + Math.floor(totalMonths / 12);
  const month = totalMonths % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  t.setUTCFullYear(year, month, Math.min(t.getUTCDate(), lastDay));
  const ms = (((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60_000 + d.seconds * 1000;
  return new Date(t.getTime() + ms);
}

const periodOf = (rule: RetentionRule | RetentionPeriod): RetentionPeriod => ('period' in rule ? rule.period : rule);

/**
 * The instant from which data that arose at `occurredAt` is past its retention: it may be held
 * *before* the deadline, and must be gone *at* it. Null when the rule sets no deadline.
 *
 *  - fixed             occurredAt + the ISO duration (P30D → 30 × 24 h later; P6M → same day 6 months later)
 *  - end-of-year-plus  "current year plus N years": the year of occurredAt (UTC) counts in full, then N
 *                      more years, so 2026-03-05 + 10 → 2037-01-01T00:00:00.000Z (the data may be held
 *                      through 2036-12-31T23:59:59.999Z). For NemKonto, occurredAt is the last time an
 *                      amount was designated to the account.
 *  - not-retained      occurredAt itself: the data is never stored beyond the call it was shown in
 *  - while-necessary, archived, not-stated → null
 */
export function retentionDeadline(rule: RetentionRule | RetentionPeriod, occurredAt: Date): Date | null {
  if (Number.isNaN(occurredAt.getTime())) throw new RangeError('occurredAt is not a valid date');
  const p = periodOf(rule);
  switch (p.kind) {
    case 'fixed':
      return addIsoDuration(occurredAt, p.iso);
    case 'end-of-year-plus':
      return new Date(Date.UTC(occurredAt.getUTCFullYear() + p.years + 1, 0, 1));
    case 'not-retained':
      return new Date(occurredAt.getTime());
    case 'while-necessary':
    case 'archived':
    case 'not-stated':
      return null;
  }
}

const UNITS: [keyof IsoDuration, string][] = [
  ['years', 'year'], ['months', 'month'], ['weeks', 'week'], ['days', 'day'], ['hours', 'hour'], ['minutes', 'minute'], ['seconds', 'second'],
];

/** "30 days", "1 hour", "6 months", "1 year and 6 months". */
export function describeIsoDuration(iso: string): string {
  const d = parseIsoDuration(iso);
  if (d === null) return iso;
  const parts = UNITS.filter(([k]) => d[k] !== 0).map(([k, unit]) => `${d[k]} ${unit}${d[k] === 1 ? '' : 's'}`);
  if (parts.length === 0) return '0 seconds';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}`;
}

/** One line for people: what happens to the data and when. */
export function describeRetention(rule: RetentionRule | RetentionPeriod): string {
  const p = periodOf(rule);
  switch (p.kind) {
    case 'fixed':
      return `deleted after ${describeIsoDuration(p.iso)}`;
    case 'end-of-year-plus':
      return `deleted after the end of the current year plus ${p.years} year${p.years === 1 ? '' : 's'}`;
    case 'while-necessary':
      return 'kept as long as necessary for the purpose';
    case 'archived':
      return 'archived and kept (no deletion period stated)';
    case 'not-retained':
      return 'not stored: shown only while the call lasts';
    case 'not-stated':
      return 'no retention period stated in the notice';
  }
}

const UNITS_DA: [keyof IsoDuration, string, string][] = [
  ['years', 'år', 'år'], ['months', 'måned', 'måneder'], ['weeks', 'uge', 'uger'], ['days', 'dag', 'dage'], ['hours', 'time', 'timer'], ['minutes', 'minut', 'minutter'], ['seconds', 'sekund', 'sekunder'],
];

/** "30 dage", "1 time", "6 måneder", "1 år og 6 måneder". */
export function describeIsoDurationDa(iso: string): string {
  const d = parseIsoDuration(iso);
  if (d === null) return iso;
  const parts = UNITS_DA.filter(([k]) => d[k] !== 0).map(([k, one, many]) => `${d[k]} ${d[k] === 1 ? one : many}`);
  if (parts.length === 0) return '0 sekunder';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} og ${parts[parts.length - 1]!}`;
}

/** `describeRetention` in either language (Danish in the authorities' own words). */
export function describeRetentionIn(rule: RetentionRule | RetentionPeriod, lang: 'en' | 'da'): string {
  if (lang === 'en') return describeRetention(rule);
  const p = periodOf(rule);
  switch (p.kind) {
    case 'fixed':
      return `slettes efter ${describeIsoDurationDa(p.iso)}`;
    case 'end-of-year-plus':
      return `slettes ved udgangen af det indeværende år plus ${p.years} år`;
    case 'while-necessary':
      return 'opbevares, så længe det er nødvendigt for formålet';
    case 'archived':
      return 'arkiveres og opbevares (privatlivspolitikken nævner ingen slettefrist)';
    case 'not-retained':
      return 'gemmes ikke: vises kun, mens opkaldet varer';
    case 'not-stated':
      return 'privatlivspolitikken nævner ingen opbevaringsperiode';
  }
}
