import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SporbarError, isSporbarError } from '../src/errors.ts';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.entries(ERROR_CODES))('%s is documented in docs/errors.md with its status', (code, e) => {
    expect(doc).toContain(`| \`${code}\` | ${e.status} | ${e.retriable ? 'yes' : 'no'} | ${e.doc} |`);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/\| `(SPB_ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('a SporbarError carries code, status, retriable and cause', () => {
    const cause = new Error('socket closed');
    const e = new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'store down', { cause, details: { adapter: 'postgres' } });
    expect([e.code, e.statusCode, e.retriable, e.cause, e.details]).toEqual(['SPB_ERR_STORE_UNAVAILABLE', 503, true, cause, { adapter: 'postgres' }]);
    expect(isSporbarError(e, 'SPB_ERR_STORE_UNAVAILABLE')).toBe(true);
    expect(isSporbarError(e, 'SPB_ERR_CONFIG')).toBe(false);
    expect(isSporbarError(new Error('x'))).toBe(false);
  });
});
