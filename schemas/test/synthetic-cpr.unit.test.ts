import { describe, expect, it } from 'vitest';
import { CPR_LIKE, drawSyntheticCprs, normaliseCpr, SYNTHETIC_CPR_COUNT, syntheticCpr } from '../src/index.ts';

/** The index a synthetic CPR number was made from (the inverse of the documented digit layout). */
const indexOf = (cpr: string) => {
  const [dd, mm, yy, ssss] = [cpr.slice(0, 2), cpr.slice(2, 4), cpr.slice(4, 6), cpr.slice(7)].map(Number) as [number, number, number, number];
  return dd - 1 + 28 * (mm - 1 + 12 * (yy + 100 * ssss));
};

// Spread over the whole range: the first and last ones, and a prime stride through the middle.
const sample = [...Array.from({ length: 2000 }, (_, i) => i), ...Array.from({ length: 2000 }, (_, i) => (i * 167_953) % SYNTHETIC_CPR_COUNT), SYNTHETIC_CPR_COUNT - 1];

describe('synthetic CPR numbers', () => {
  it('numbers them day first, then month, year and serial', () => {
    expect(SYNTHETIC_CPR_COUNT).toBe(336_000_000);
    expect(syntheticCpr(0)).toBe('010100-0000');
    expect(syntheticCpr(1)).toBe('020100-0000');
    expect(syntheticCpr(27)).toBe('280100-0000');
    expect(syntheticCpr(28)).toBe('010200-0000');
    expect(syntheticCpr(336)).toBe('010101-0000');
    expect(syntheticCpr(33_600)).toBe('010100-0001');
    expect(syntheticCpr(SYNTHETIC_CPR_COUNT - 1)).toBe('281299-9999');
  });

  it('is deterministic per index', () => {
    for (const i of sample) expect(syntheticCpr(i)).toBe(syntheticCpr(i));
  });

  it('makes well-formed numbers that normaliseCpr accepts, with a day and month valid in any year', () => {
    for (const i of sample) {
      const cpr = syntheticCpr(i);
      expect(cpr).toMatch(/^\d{6}-\d{4}$/);
      expect(normaliseCpr(cpr)).toBe(cpr.replace('-', ''));
      expect(CPR_LIKE.test(cpr)).toBe(true);
      const day = Number(cpr.slice(0, 2));
      const month = Number(cpr.slice(2, 4));
      expect(day).toBeGreaterThanOrEqual(1);
      expect(day).toBeLessThanOrEqual(28);
      expect(month).toBeGreaterThanOrEqual(1);
      expect(month).toBeLessThanOrEqual(12);
    }
  });

  it('gives distinct indices distinct numbers', () => {
    const first = Array.from({ length: 100_000 }, (_, i) => syntheticCpr(i));
    expect(new Set(first).size).toBe(first.length);
    // One number per index: each one maps back to the index it came from.
    for (const i of sample) expect(indexOf(syntheticCpr(i))).toBe(i);
  });

  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, SYNTHETIC_CPR_COUNT])('refuses index %s', (bad) => {
    expect(() => syntheticCpr(bad)).toThrow(RangeError);
  });
});

describe('drawSyntheticCprs', () => {
  /** A seeded source of integers in [0, n). */
  const seeded = (seed: number) => {
    let s = seed;
    return (n: number) => {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((s / 2 ** 31) * n);
    };
  };

  it('draws the index digits day, month, year, serial in that order', () => {
    const draws = [3, 11, 99, 1234];
    let i = 0;
    expect(drawSyntheticCprs(1, () => draws[i++]!)).toEqual(['041299-1234']);
  });

  it('gives count distinct numbers, the same for the same source', () => {
    const a = drawSyntheticCprs(5000, seeded(42));
    expect(new Set(a).size).toBe(5000);
    expect(drawSyntheticCprs(5000, seeded(42))).toEqual(a);
    expect(drawSyntheticCprs(5000, seeded(43))).not.toEqual(a);
    for (const cpr of a) expect(normaliseCpr(cpr)).toBe(cpr.replace('-', ''));
  });

  it('refuses a count it cannot meet', () => {
    expect(() => drawSyntheticCprs(-1, seeded(1))).toThrow(RangeError);
    expect(() => drawSyntheticCprs(SYNTHETIC_CPR_COUNT + 1, seeded(1))).toThrow(RangeError);
  });
});
