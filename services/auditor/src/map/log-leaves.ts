import { deterministicUuid, type Codec, type DisclosureRecorded, type EventType, type SubjectMapCommitted } from '@sporbar/schemas';

/**
 * What the subject map needs of a stored event (a leaf of the log), read from its bytes alone: the
 * log's leaf hash covers exactly these bytes, so the assignment of a leaf to a subject can never
 * change after it is stored.
 *
 * - `disclosure`: a DisclosureRecorded about a pseudonymised subject — a leaf of that subject's chain;
 * - `commitment`: a SubjectMapCommitted — a map root the log committed to;
 * - `other`: everything else (checkpoints, consents, erasures, register publications …), in no chain.
 *
 * Only the two types are decoded (a fingerprint check first, like `checkpointMatcher`); a leaf of
 * either type that does not decode is `undecodable` (`sporbar-audit verify` reports those on its own).
 */
export type MapLeaf =
  | { readonly kind: 'other' }
  | { readonly kind: 'undecodable'; readonly eventType: 'DisclosureRecorded' | 'SubjectMapCommitted' }
  | { readonly kind: 'disclosure'; readonly pseudonym: string; readonly eventId: string }
  | { readonly kind: 'commitment'; readonly treeSize: number; readonly rootHash: Buffer; readonly eventId: string; /** When it was committed, µs since the epoch (the map's time). */ readonly occurredAt: number };

/** A predicate over stored bytes: is this an event of `eventType` (any schema version)? Reads 10 bytes. */
export function eventTypeMatcher(codec: Codec, eventType: EventType): (data: Uint8Array) => boolean {
  const fps = codec.catalogue.versions(eventType).map((v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v.fingerprint);
    return b;
  });
  const firsts = new Set(fps.map((b) => b[0]!));
  return (data) => {
    if (data.length < 10 || data[0] !== 0xc3 || data[1] !== 0x01 || !firsts.has(data[2]!)) return false;
    const view = Buffer.from(data.buffer, data.byteOffset + 2, 8);
    return fps.some((fp) => fp.equals(view));
  };
}

const OTHER: MapLeaf = { kind: 'other' };

export function mapLeafReader(codec: Codec): (data: Uint8Array) => MapLeaf {
  const isDisclosure = eventTypeMatcher(codec, 'DisclosureRecorded');
  const isCommitment = eventTypeMatcher(codec, 'SubjectMapCommitted');
  return (data) => {
    if (isDisclosure(data)) {
      try {
        const e = codec.decode(data).event as DisclosureRecorded;
        if (e.subject.scheme !== 'PSEUDONYM') return { kind: 'undecodable', eventType: 'DisclosureRecorded' };
        return { kind: 'disclosure', pseudonym: e.subject.value, eventId: e.eventId };
      } catch {
        return { kind: 'undecodable', eventType: 'DisclosureRecorded' };
      }
    }
    if (isCommitment(data)) {
      try {
        const e = codec.decode(data).event as SubjectMapCommitted;
        if (!Number.isSafeInteger(e.treeSize) || e.treeSize < 0) return { kind: 'undecodable', eventType: 'SubjectMapCommitted' };
        return { kind: 'commitment', treeSize: e.treeSize, rootHash: Buffer.from(e.rootHash), eventId: e.eventId, occurredAt: Number(e.occurredAt) };
      } catch {
        return { kind: 'undecodable', eventType: 'SubjectMapCommitted' };
      }
    }
    return OTHER;
  };
}

/** The stream the checkpointer writes map commitments to (next to 'log-checkpoints'). */
export const SUBJECT_MAP_STREAM = 'log-subject-map';

/** The commitment's eventId for (origin, treeSize): a restart or a second signer committing the same size writes nothing new. */
export const subjectMapCommitmentId = (origin: string, treeSize: number): string => deterministicUuid('sporbar/subject-map/v1', origin, String(treeSize));
