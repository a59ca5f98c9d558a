import { hash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104) of strings under one secret, as base64url: the same bytes as
 * `createHmac('sha256', secret).update(message).digest('base64url')`, computed as two one-shot hashes
 * with the padded key blocks prepared once. A Node Hmac object costs more to set up than the hashing
 * (~2.2 against ~1 µs per message here), and the SDK and the ingest key every CPR number this way.
 *
 * The message is written into a scratch buffer for the inner hash and wiped from it afterwards, so no
 * CPR number stays in memory after the call.
 */
export function hmacSha256Base64url(secret: Uint8Array): (message: string) => string {
  const key = secret.length > 64 ? hash('sha256', secret, 'buffer') : Buffer.from(secret);
  let inner = Buffer.alloc(64 + 256, 0x36); // (key ⊕ ipad) ‖ message
  const outer = Buffer.alloc(64 + 32, 0x5c); // (key ⊕ opad) ‖ inner hash
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  key.fill(0);
  return (message) => {
    const len = Buffer.byteLength(message, 'utf8');
    if (64 + len > inner.length) {
      const bigger = Buffer.alloc(64 + len);
      inner.copy(bigger, 0, 0, 64);
      inner.fill(0);
      inner = bigger;
    }
    inner.write(message, 64, len, 'utf8');
    // Digests as binary (latin1) strings, not Buffers: a Buffer made by native code is an ArrayBuffer of its own.
    outer.write(hash('sha256', inner.subarray(0, 64 + len), 'binary'), 64, 'binary');
    inner.fill(0, 64, 64 + len);
    return hash('sha256', outer, 'base64url');
  };
}
