import { hash } from 'node:crypto';

/**
 * The partition key of a subject: HMAC-SHA256(routingSecret, id), base64url, first 16 characters,
 * exactly as routingKey() in @sporbar/schemas (a test checks that), computed from two one-shot
 * hashes (RFC 2104) with the padded key blocks prepared once: a Node Hmac object costs a few
 * microseconds to set up, more than the hashing.
 */
export function routingHasher(secret: Buffer): (id: string) => string {
  const key = secret.length > 64 ? hash('sha256', secret, 'buffer') : secret;
  let inner = Buffer.alloc(64 + 256, 0x36); // (key ⊕ ipad) ‖ message
  const outer = Buffer.alloc(64 + 32, 0x5c); // (key ⊕ opad) ‖ inner hash
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  return (id) => {
    const len = Buffer.byteLength(id, 'utf8');
    if (64 + len > inner.length) {
      const bigger = Buffer.allocUnsafe(64 + len);
      inner.copy(bigger, 0, 0, 64);
      inner = bigger;
    }
    inner.write(id, 64, len, 'utf8');
    hash('sha256', inner.subarray(0, 64 + len), 'buffer').copy(outer, 64);
    return hash('sha256', outer, 'base64url').slice(0, 16);
  };
}
