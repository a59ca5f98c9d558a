import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPseudonymiser, hmacSha256Base64url } from '../src/index.ts';

describe('hmacSha256Base64url', () => {
  it('is HMAC-SHA256 (node:crypto) for secrets shorter, as long as and longer than a block, and messages of any length', () => {
    for (const secretBytes of [1, 32, 63, 64, 65, 200]) {
      const secret = randomBytes(secretBytes);
      const hmac = hmacSha256Base64url(secret);
      // lengths around the scratch buffer's 256 bytes, multi-byte UTF-8, empty; then short again after it grew
      for (const message of ['', '0101801234', 'ø'.repeat(127), 'ø'.repeat(128), 'a'.repeat(256), 'a'.repeat(257), randomBytes(3000).toString('base64url'), '150872-3341', '\u{1F600}x']) {
        expect(hmac(message)).toBe(createHmac('sha256', secret).update(message).digest('base64url'));
      }
    }
  });

  it('answers each message for itself: a longer message before a shorter one leaves nothing behind', () => {
    const secret = randomBytes(32);
    const hmac = hmacSha256Base64url(secret);
    hmac('3112999999-and-a-long-tail');
    expect(hmac('0101801234')).toBe(createHmac('sha256', secret).update('0101801234').digest('base64url'));
  });

  it('is what pseudonyms are made of', () => {
    const secret = randomBytes(32);
    const p = createPseudonymiser({ id: 'k1', secret: secret.toString('base64url') });
    expect(p.pseudonym('010180-1234')).toBe(`psn_k1_${createHmac('sha256', secret).update('0101801234').digest('base64url')}`);
  });
});
