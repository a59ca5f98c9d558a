import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { CPR_LIKE, normaliseCpr } from '../src/index.ts';

describe('CPR numbers', () => {
  it('normalises DDMMYY-SSSS and DDMMYYSSSS to ten digits', () => {
    expect(normaliseCpr('010190-1234')).toBe('0101901234');
    expect(normaliseCpr(' 0101901234 ')).toBe('0101901234');
  });

  it.each(['', '12345', '320190-1234', '011390-1234', 'abcdefghij'])('refuses %j without echoing it', (bad) => {
    try {
      normaliseCpr(bad);
      expect.unreachable();
    } catch (e) {
      expect(isSporbarError(e, 'SPB_ERR_SCHEMA_INVALID')).toBe(true);
      if (bad) expect((e as Error).message).not.toContain(bad);
    }
  });

  it('recognises CPR-shaped text for leak scans', () => {
    expect(CPR_LIKE.test('x 010190-1234 y')).toBe(true);
    expect(CPR_LIKE.test('0101901234')).toBe(true);
    expect(CPR_LIKE.test('psn_k1_abc')).toBe(false);
  });
});
