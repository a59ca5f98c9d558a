import type { EventToAppend } from '@sporbar/event-store';
import { createCodec, register, type DisclosureRecorded } from '@sporbar/schemas';
import { storedMetadata } from '../../bench/generate.ts';

export const codec = createCodec();
const activity = register.activities[0]!;
const flow = activity.flows[0]!;
let ids = 0;
/** Deterministic, distinct event ids. */
export const uuid = (): string => `00000000-0000-4000-8000-${(++ids).toString(16).padStart(12, '0')}`;

/** A declared disclosure of the register's first flow about the subject `psn_k1_<letter × 43>`. */
export function disclosureOf(letter: string, over: Partial<DisclosureRecorded> = {}): DisclosureRecorded {
  return {
    eventId: uuid(),
    occurredAt: Date.UTC(2026, 0, 10) * 1000,
    sourceSystem: activity.id,
    controllerCvr: '34051178',
    activity: activity.id,
    subject: { scheme: 'PSEUDONYM', value: `psn_k1_${letter.repeat(43)}` },
    recipient: { id: flow.recipientId, role: flow.roles[0]! },
    purpose: flow.purposeIds[0]!,
    legalBases: [...flow.legalBases],
    dataCategories: flow.categoryIds.slice(0, 1),
    transfer: null,
    personalDetails: null,
    correlationId: null,
    ...over,
  };
}

/** The event as the ingest stores it (bytes and metadata). */
export const stored = (d: DisclosureRecorded): EventToAppend => ({ eventId: d.eventId, type: 'DisclosureRecorded', data: codec.encode('DisclosureRecorded', d), metadata: storedMetadata(register, codec, 'DisclosureRecorded', d) });
