import { normaliseCpr } from '@sporbar/schemas';
import { hmacSha256Base64url } from './hmac.ts';

/**
 * The partition key for Kafka: a short keyed hash, so one subject's events stay in one partition
 * without the key revealing who they are about. HMAC-SHA256(routingSecret, id), base64url, first 16
 * characters, on the prepared-pads HMAC (a Node Hmac object per event costs more than the hashing).
 *
 * `routingHasher` keys an already normalised CPR number (or a pseudonym) with the pads prepared once,
 * for a producer that keys every event; `routingKey` is the one-off form that normalises first.
 */
export function routingHasher(secret: Uint8Array): (id: string) => string {
  const hmac = hmacSha256Base64url(secret);
  return (id) => hmac(id).slice(0, 16);
}

/** The routing key of a CPR number (either form, DDMMYY-SSSS or DDMMYYSSSS). */
export function routingKey(cpr: string, routingSecret: Uint8Array): string {
  return routingHasher(routingSecret)(normaliseCpr(cpr));
}
