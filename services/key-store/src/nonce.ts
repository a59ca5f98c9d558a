import { randomFillSync } from 'node:crypto';

/**
 * Fresh random nonces for AES-GCM, taken from a pool the CSPRNG fills 4,096 nonces at a time: a
 * `randomBytes(12)` call costs some 6 µs, a slice of the pool a fraction of one, and every event is
 * sealed or encrypted two or three times. Each slice is copied out and never handed out twice; the
 * pool holds only nonces (public values), never key material.
 */
const NONCE_BYTES = 12;
const pool = Buffer.allocUnsafe(NONCE_BYTES * 4096);
let offset = pool.length;

export function randomNonce(): Buffer {
  if (offset + NONCE_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const nonce = Buffer.allocUnsafe(NONCE_BYTES);
  pool.copy(nonce, 0, offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  return nonce;
}
