import { createHash } from 'node:crypto';

/**
 * A UUID (version 8, RFC 9562 "custom") derived from its parts with SHA-256: events Sporbar derives
 * from other events (a SubjectKeyShredded from an ErasureRequested, a checkpoint for a tree size)
 * get the same eventId however often they are derived, so the store keeps each once.
 */
export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
