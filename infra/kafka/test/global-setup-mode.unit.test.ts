import { describe, expect, it } from 'vitest';
import { wantsSecureBroker } from '../src/vitest-global-setup.ts';

describe('wantsSecureBroker: which broker the vitest global setup starts', () => {
  it('plaintext by default outside CI; secured with KAFKA_SECURE=1', () => {
    expect(wantsSecureBroker({})).toBe(false);
    expect(wantsSecureBroker({ KAFKA_SECURE: '1' })).toBe(true);
    expect(wantsSecureBroker({ KAFKA_SECURE: ' true ' })).toBe(true);
    expect(wantsSecureBroker({ CI: 'false' })).toBe(false);
  });

  it('secured by default under CI=true, unless KAFKA_SECURE=0 says otherwise', () => {
    expect(wantsSecureBroker({ CI: 'true' })).toBe(true);
    expect(wantsSecureBroker({ CI: 'true', KAFKA_SECURE: '' })).toBe(true);
    expect(wantsSecureBroker({ CI: 'true', KAFKA_SECURE: '0' })).toBe(false);
    expect(wantsSecureBroker({ CI: 'true', KAFKA_SECURE: 'no' })).toBe(false);
  });
});
