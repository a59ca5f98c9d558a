import { isDay, isInstant, parseCursor } from '@sporbar/projections';

/**
 * Something shaped like a CPR number anywhere in a text: DDMMYY, an optional dash, four digits, with
 * a day that exists (29 February only in a year divisible by four), not inside a longer run of digits.
 * Pure. A caseworker's `reason` is a case number: one holding a CPR number would put it in the
 * ReportViewed event and the access log in clear.
 */
export function containsCprShape(text: string): boolean {
  for (const m of text.matchAll(/(?<!\d)(\d{2})(\d{2})(\d{2})-?\d{4}(?!\d)/g)) {
    const day = Number(m[1]);
    const month = Number(m[2]);
    const year = Number(m[3]);
    const days = month === 2 ? (year % 4 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
    if (month >= 1 && month <= 12 && day >= 1 && day <= days) return true;
  }
  return false;
}

/**
 * JSON Schema formats of the route schemas (ajv, through fastify's validator): a value that passes a
 * pattern but is not a real value is refused as a 400 naming the parameter, before any query runs.
 */
export const apiFormats = {
  /** `YYYY-MM-DD` or an ISO instant that exists (see isInstant in @sporbar/projections). */
  'sporbar-instant': { type: 'string', validate: isInstant },
  /** `YYYY-MM-DD` that exists (no year 0000, no 30 February). */
  'sporbar-day': { type: 'string', validate: isDay },
  /** A cursor as the API hands it out: base64url of `["<instant>", "<uuid>"]`. */
  'sporbar-cursor': { type: 'string', validate: (v: string) => parseCursor(v) !== null },
  /** Free text without anything shaped like a CPR number. */
  'sporbar-no-cpr': { type: 'string', validate: (v: string) => !containsCprShape(v) },
} as const;
