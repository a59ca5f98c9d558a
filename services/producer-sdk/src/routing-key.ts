import { hmacSha256Base64url } from '@sporbar/schemas';

/**
 * The partition key of a subject: HMAC-SHA256(routingSecret, id), base64url, first 16 characters,
 * exactly as routingKey() in @sporbar/schemas (a test checks that), on the prepared-pads HMAC (a Node
 * Hmac object per event costs more than the hashing).
 */
export function routingHasher(secret: Buffer): (id: string) => string {
  const hmac = hmacSha256Base64url(secret);
  return (id) => hmac(id).slice(0, 16);
}
