import { SporbarError } from '@sporbar/common/errors';
import { assertTextRules, authorize, createDisclosureJudge, sourceSystemAllowed, type RegisterSource, type Codec, type DecodedEvent, type DisclosureRecorded, type ProducerRegistry, type SubjectRef } from '@sporbar/schemas';
import { PSEUDONYM_PATTERN, type Pseudonymiser, type SubjectOpener, type SubjectKeyStore, type PersonalDetails, keyScope } from '@sporbar/key-store';
import type { BoundedCache } from '@sporbar/common/cache';
import type { EventToAppend } from '@sporbar/event-store';

export interface PrepareDeps {
  readonly codec: Codec;
  readonly opener: SubjectOpener;
  readonly pseudonymiser: Pseudonymiser;
  /**
   * The register files (every notice version with its effective period: a disclosure is judged by the
   * version in force at its occurredAt, and the metadata names it), or one fixed register (no version named).
   */
  readonly register: RegisterSource;
  /** Per-subject data keys: personal details are stored encrypted under them. */
  readonly keys: SubjectKeyStore;
  /**
   * Sealed subject envelope → pseudonym, for envelopes seen lately (a producer reuses a subject's
   * envelope within a seal session): a repeat needs neither the decryption nor the HMAC. No CPR
   * number is kept. Optional: without it every envelope is opened.
   */
  readonly sealedSubjects?: BoundedCache<string, string>;
}

/** What must happen once the event is durably stored: crypto-shredding. */
export type AfterEffect = {
  readonly kind: 'shred';
  readonly pseudonym: string;
  /** The subject's pseudonyms under rotated-out keys (an erasure of a sealed subject): their data keys are shredded too. */
  readonly formerPseudonyms: readonly string[];
  readonly activity: string | null;
  readonly cause: 'ERASURE_REQUESTED' | 'RETENTION_EXPIRED';
  readonly causationEventId: string;
};

export interface PreparedEvent {
  readonly streamName: string;
  readonly event: EventToAppend;
  readonly pseudonym: string | null;
  readonly after: AfterEffect | null;
}

export const subjectStream = (pseudonym: string): string => `subject-${pseudonym}`;
export const CHECKPOINT_STREAM = 'log-checkpoints';

/** Replaces a sealed subject with its pseudonym: the CPR number exists only inside this function. */
async function pseudonymise(subject: SubjectRef, deps: PrepareDeps, withFormer = false): Promise<{ subject: SubjectRef; former: string[] }> {
  if (subject.scheme === 'PSEUDONYM') {
    if (!PSEUDONYM_PATTERN.test(subject.value)) {
      throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'subject.value: not a Sporbar pseudonym', { details: { path: 'subject.value' } });
    }
    return { subject, former: [] };
  }
  if (withFormer) {
    // An erasure: the subject's pseudonyms under every key (after a pseudonym key rotation), not cached.
    const [current, ...former] = deps.pseudonymiser.all(await deps.opener.open(subject.value));
    return { subject: { scheme: 'PSEUDONYM', value: current! }, former };
  }
  let pseudonym = deps.sealedSubjects?.get(subject.value);
  if (pseudonym === undefined) {
    pseudonym = deps.pseudonymiser.pseudonym(await deps.opener.open(subject.value));
    deps.sealedSubjects?.set(subject.value, pseudonym);
  }
  return { subject: { scheme: 'PSEUDONYM', value: pseudonym }, former: [] };
}

/**
 * Personal details arrive sealed to the ingest (like the CPR number) and are stored encrypted under
 * the subject's data key for this activity: shredding that key erases them for good.
 */
async function encryptDetails(event: DisclosureRecorded, pseudonym: string, deps: PrepareDeps): Promise<Buffer | null> {
  if (!event.personalDetails) return null;
  const plain = await deps.opener.openBytes(event.personalDetails);
  let details: unknown;
  let cause: unknown;
  try {
    details = JSON.parse(plain.toString('utf8'));
  } catch (e) {
    cause = e;
  }
  if (cause !== undefined || typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw new SporbarError('SPB_ERR_MALFORMED_BODY', 'personalDetails: the sealed details are not a JSON object', { ...(cause === undefined ? {} : { cause }), details: { path: 'personalDetails' } });
  }
  // The text rules of free text (tab and line breaks allowed, no other control character) hold inside the sealed details too.
  assertTextRules({ personalDetails: details }, 'DisclosureRecorded');
  // Unknown or non-string fields are refused (SPB_ERR_SCHEMA_INVALID) by the canonical form the key store encrypts.
  return deps.keys.encrypt(keyScope(pseudonym, event.activity), event.eventId, details as PersonalDetails);
}

/** One judge per register source (see createDisclosureJudge): the classification by the notice version in force at occurredAt, as metadata. */
const judges = new WeakMap<object, (event: DisclosureRecorded) => Readonly<Record<string, string>>>();

/**
 * The classification by the register in force at the disclosure's occurredAt, and the notice version
 * that judged it (`notice`, `noticeVersion`, `noticeSha256`: the version whose notice declares the
 * activity; none when no notice in force does). Codes only: the compliance projection and the API read it.
 */
function classify(event: DisclosureRecorded, source: RegisterSource): Readonly<Record<string, string>> {
  let judge = judges.get(source);
  if (judge === undefined) {
    judge = createDisclosureJudge(source);
    judges.set(source, judge);
  }
  return judge(event);
}

/**
 * Step zero, after the authenticator is verified (the producer id is proven): may this producer send
 * this decoded event, for its activity, under its declared sourceSystem? Throws SPB_ERR_NOT_ALLOWED
 * (or SPB_ERR_UNKNOWN_PRODUCER) with the reason. Pure.
 */
export function checkProducerAllowed(registry: ProducerRegistry, producerId: string, decoded: DecodedEvent): void {
  const event = decoded.event as unknown as Record<string, unknown>;
  const activity = typeof event['activity'] === 'string' ? event['activity'] : null;
  const verdict = authorize(registry, producerId, decoded.eventType, activity);
  if (!verdict.ok) throw new SporbarError(verdict.code, verdict.reason, { details: { producer: producerId, eventType: decoded.eventType } });
  const source = event['sourceSystem'];
  if (typeof source === 'string' && !sourceSystemAllowed(verdict.producer, source)) {
    throw new SporbarError('SPB_ERR_NOT_ALLOWED', `sourceSystem: producer ${producerId} may not declare sourceSystem ${JSON.stringify(source.slice(0, 64))}`, {
      details: { producer: producerId, path: 'sourceSystem' },
    });
  }
}

/** A decoded event whose subject is already pseudonymised: the first of the two steps of `prepareEvent`. */
export interface OpenedEvent {
  readonly eventType: DecodedEvent['eventType'];
  readonly event: Record<string, unknown>;
  readonly pseudonym: string | null;
  /** An erasure's subject under rotated-out pseudonym keys (see AfterEffect). */
  readonly formerPseudonyms?: readonly string[];
  /** The authenticated producer id (verified against the producer registry), stored in the event's metadata. */
  readonly producer: string | null;
}

/**
 * Step one: the text rules (no control characters, nothing shaped like a CPR number outside the
 * subject: a producer that bypasses the SDK is held to them here, SPB_ERR_CONTROL_CHARACTER /
 * SPB_ERR_CPR_IN_TEXT, dead-lettered), then the sealed subject (if any) is opened and replaced by its
 * pseudonym.
 */
export async function openEvent(decoded: DecodedEvent, deps: PrepareDeps, producer: string | null = null): Promise<OpenedEvent> {
  assertTextRules(decoded.event, decoded.eventType);
  const event = { ...(decoded.event as unknown as Record<string, unknown>) };
  let pseudonym: string | null = null;
  let former: string[] = [];
  if (event['subject']) {
    const opened = await pseudonymise(event['subject'] as SubjectRef, deps, decoded.eventType === 'ErasureRequested');
    event['subject'] = opened.subject;
    pseudonym = opened.subject.value;
    former = opened.former;
  }
  return { eventType: decoded.eventType, event, pseudonym, ...(former.length ? { formerPseudonyms: former } : {}), producer };
}

/** The data-key scope step two will encrypt under, if any: a batch loads all of them at once. */
export function dataKeyScopeOf(opened: OpenedEvent): string | null {
  if (opened.eventType !== 'DisclosureRecorded' || !opened.event['personalDetails'] || !opened.pseudonym) return null;
  return keyScope(opened.pseudonym, opened.event['activity'] as string);
}

/**
 * Step two: classified against the processing register, details encrypted under the subject's data
 * key, re-encoded with the current schema. Undeclared disclosures are kept and flagged, never
 * rejected: the log must show what happened, mistakes included.
 */
export async function finishEvent(opened: OpenedEvent, deps: PrepareDeps): Promise<PreparedEvent> {
  const { eventType, pseudonym } = opened;
  const event = { ...opened.event };
  const metadata: Record<string, string> = { fingerprint: deps.codec.fingerprintHex(eventType) };
  if (opened.producer !== null) metadata['producer'] = opened.producer;
  let after: AfterEffect | null = null;
  if (eventType === 'DisclosureRecorded') {
    const disclosure = event as unknown as DisclosureRecorded;
    Object.assign(metadata, classify(disclosure, deps.register));
    event['personalDetails'] = await encryptDetails(disclosure, pseudonym!, deps);
  } else if (eventType === 'ErasureRequested' || eventType === 'RetentionExpired') {
    after = {
      kind: 'shred',
      pseudonym: pseudonym!,
      formerPseudonyms: opened.formerPseudonyms ?? [],
      activity: (event['activity'] as string | null) ?? null,
      cause: eventType === 'ErasureRequested' ? 'ERASURE_REQUESTED' : 'RETENTION_EXPIRED',
      causationEventId: event['eventId'] as string,
    };
  }
  return {
    streamName: pseudonym ? subjectStream(pseudonym) : CHECKPOINT_STREAM,
    pseudonym,
    after,
    event: {
      eventId: event['eventId'] as string,
      type: eventType,
      data: deps.codec.encode(eventType, event as never),
      metadata,
    },
  };
}

/** Decoded event → what the store keeps: the subject pseudonymised, classified, details encrypted. */
export async function prepareEvent(decoded: DecodedEvent, deps: PrepareDeps): Promise<PreparedEvent> {
  return finishEvent(await openEvent(decoded, deps), deps);
}
