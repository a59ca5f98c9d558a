/**
 * Synthetic CPR numbers for generated traffic, tests and benchmarks: well-formed (DDMMYY-SSSS with a
 * valid day and month, so normaliseCpr accepts them) and numbered, so every generator makes them the
 * same way. They are not taken from anyone, but nothing stops one from matching a real person's
 * number: use them only with synthetic data.
 *
 * The index is read as mixed-radix digits, the day changing fastest:
 *   index = (DD − 1) + 28 × ((MM − 1) + 12 × (YY + 100 × SSSS))
 * Days go up to 28 only, so every date is valid in every month. Distinct indices give distinct
 * numbers, SYNTHETIC_CPR_COUNT of them.
 */

/** How many distinct synthetic CPR numbers there are: 28 days × 12 months × 100 years × 10,000 serials. */
export const SYNTHETIC_CPR_COUNT = 28 * 12 * 100 * 10_000;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * The `index`-th synthetic CPR number, as DDMMYY-SSSS (normaliseCpr gives the form without the
 * dash). Pure: the same index always gives the same number.
 *
 * @param index an integer from 0 to SYNTHETIC_CPR_COUNT − 1; anything else throws a RangeError.
 */
export function syntheticCpr(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= SYNTHETIC_CPR_COUNT) {
    throw new RangeError(`syntheticCpr: index must be an integer from 0 to ${SYNTHETIC_CPR_COUNT - 1}, got ${index}`);
  }
  const day = 1 + (index % 28);
  const month = 1 + (Math.floor(index / 28) % 12);
  const year = Math.floor(index / 336) % 100;
  const serial = Math.floor(index / 33_600);
  return `${pad(day, 2)}${pad(month, 2)}${pad(year, 2)}-${pad(serial, 4)}`;
}

/**
 * `count` distinct synthetic CPR numbers drawn with `randomInt(n)` (an integer in [0, n)): the index's
 * digits are drawn day, month, year, serial in that order, so a seeded source gives the same numbers
 * every time. `count` must be at most SYNTHETIC_CPR_COUNT.
 */
export function drawSyntheticCprs(count: number, randomInt: (n: number) => number): string[] {
  if (!Number.isSafeInteger(count) || count < 0 || count > SYNTHETIC_CPR_COUNT) {
    throw new RangeError(`drawSyntheticCprs: count must be an integer from 0 to ${SYNTHETIC_CPR_COUNT}, got ${count}`);
  }
  const out = new Set<string>();
  while (out.size < count) {
    const day = randomInt(28);
    const month = randomInt(12);
    const year = randomInt(100);
    const serial = randomInt(10_000);
    out.add(syntheticCpr(day + 28 * (month + 12 * (year + 100 * serial))));
  }
  return [...out];
}
