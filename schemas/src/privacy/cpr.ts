import { SporbarError } from '@sporbar/common/errors';

/**
 * Danish CPR numbers: DDMMYY-SSSS. Only the shape and the date part are checked (the modulus-11
 * check was dropped for numbers issued since 2007). The value never leaves the producer in clear.
 */
const CPR = /^(\d{2})(\d{2})(\d{2})-?(\d{4})$/;

export function normaliseCpr(input: string): string {
  const m = CPR.exec(input.trim());
  const day = Number(m?.[1]);
  const month = Number(m?.[2]);
  if (!m || day < 1 || day > 31 || month < 1 || month > 12) {
    // The message never repeats the input: it may be a real CPR number with a typo.
    throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'subject.cpr: expected a CPR number DDMMYY-SSSS', { details: { path: 'subject.cpr' } });
  }
  return `${m[1]}${m[2]}${m[3]}${m[4]}`;
}

/** True when a string contains something shaped like a CPR number (used by leak scans in tests). */
export const CPR_LIKE = /(?<!\d)[0-3]\d[01]\d{3}-?\d{4}(?!\d)/;
