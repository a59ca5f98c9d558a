import { randomUUID } from 'node:crypto';
import { SporbarError } from '@sporbar/common/errors';
import { createCache } from '@sporbar/common/cache';
import { assertTextRules, createCodec, normaliseCpr, toMicros, type Codec, type ConsentScope, type DisclosureRecorded, type EventMap, type EventType, type LegalBasis, type RecipientRole, type SubjectRef, type TransferSafeguard, type ViewerRole } from '@sporbar/schemas';
import { createSubjectSealer } from '@sporbar/key-store/seal';
import { type PersonalDetails, canonicalDetails, detailCategories } from '@sporbar/key-store/envelope';
import { PSEUDONYM_PATTERN } from '@sporbar/key-store/pseudonym';
import { routingHasher } from '@sporbar/key-store/routing';
import { createProducerSigner, HEADER_AUTH, HEADER_KEY_ID, HEADER_PRODUCER, type ProducerKey } from '@sporbar/key-store/producer-auth';
import { HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_FINGERPRINT, type OutgoingMessage, type Transport } from './transport.ts';

export interface ProducerOptions {
  readonly transport: Transport;
  /** The ingest's seal public key (base64url, 32 bytes). */
  readonly sealPublicKey: string;
  /** Secret for partition keys (base64url, ≥ 32 bytes); the same for every producer. */
  readonly routingSecret: string;
  /**
   * This producer's key (its id in the producer registry, the key id, the secret): every event is
   * authenticated with it (headers sporbar-producer, sporbar-key-id, sporbar-auth), and the ingest
   * stores nothing it cannot verify against the registry. `null`: events go out with no
   * authenticator, which only an ingest started with SPORBAR_INSECURE_NO_PRODUCER_AUTH (development
   * only) stores: the pipeline bench's authentication-off side; `sourceSystem` is then required.
   */
  readonly producerKey: ProducerKey | null;
  /** Which operational system this is, e.g. 'mitid-core'; default the producer key's producer id (the ingest refuses a sourceSystem the registry does not allow that producer). */
  readonly sourceSystem?: string;
  /** The data controller's CVR number; default Digitaliseringsstyrelsen, 34051178. */
  readonly controllerCvr?: string;
  readonly codec?: Codec;
}

/**
 * The subject as the caller knows them: operational systems know the CPR number (sealed before it
 * leaves this process); Sporbar's own services (the access API recording a ReportViewed) know only
 * the pseudonym.
 */
export type SubjectInput = { readonly cpr: string } | { readonly pseudonym: string };

interface Common {
  readonly subject: SubjectInput;
  /** Default: now. */
  readonly occurredAt?: Date;
  /** Default: a random uuid. Give your own to make retries idempotent end to end. */
  readonly eventId?: string;
}

export interface DisclosureInput extends Common {
  readonly activity: string;
  readonly recipient: { readonly id: string; readonly role: RecipientRole };
  readonly purpose: string;
  readonly legalBases: readonly LegalBasis[];
  readonly dataCategories: readonly string[];
  readonly transfer?: { readonly country: string; readonly safeguard: TransferSafeguard } | null;
  readonly correlationId?: string | null;
  /**
   * Personal details (IP address, account number, benefit type, free text ...). Sealed to the ingest
   * like the CPR number; the ingest re-encrypts them under the subject's data key. Each field's data
   * category (DETAIL_CATEGORY) is added to dataCategories, so the classification sees it.
   */
  readonly personalDetails?: PersonalDetails | null;
}

export interface ConsentInput extends Common {
  readonly activity: string;
  readonly scope: ConsentScope;
}

export interface ReportViewedInput extends Common {
  readonly viewerId: string;
  readonly viewerRole: ViewerRole;
  readonly reason?: string | null;
  readonly view: string;
}

export interface ErasureInput extends Common {
  readonly activity?: string | null;
  readonly reason: string;
}

export interface Recorded {
  readonly eventId: string;
  readonly eventType: EventType;
}

export interface Producer {
  recordDisclosure(input: DisclosureInput): Promise<Recorded>;
  giveConsent(input: ConsentInput): Promise<Recorded>;
  withdrawConsent(input: ConsentInput): Promise<Recorded>;
  requestErasure(input: ErasureInput): Promise<Recorded>;
  recordReportViewed(input: ReportViewedInput): Promise<Recorded>;
  /** Sporbar's retention worker: the retention of an activity's data ran out for a subject. */
  recordRetentionExpired(input: Common & { readonly activity: string; readonly retentionRule: string; readonly coversUntil: Date }): Promise<Recorded>;
  /** Resolves when every event recorded so far has been handed over for good. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The subject of a draft event, before the real one is sealed (or checked): no text to check. */
const DRAFT_SUBJECT: SubjectRef = Object.freeze({ scheme: 'PSEUDONYM', value: '' });

/** How many pseudonyms' routing keys a producer remembers. */
const ROUTING_KEY_CACHE = 16_384;

/**
 * The producer SDK: one typed call records one event. The event is validated against its Avro
 * schema before anything is sent (a bad field is an SPB_ERR_SCHEMA_INVALID naming it), the CPR
 * number is sealed to the ingest's key, and the transport delivers.
 */
export function createProducer(options: ProducerOptions): Producer {
  const codec = options.codec ?? createCodec();
  const sealer = createSubjectSealer(options.sealPublicKey);
  const routing = Buffer.from(options.routingSecret, 'base64url');
  if (routing.length < 32) throw new SporbarError('SPB_ERR_CONFIG', 'routingSecret must be at least 32 bytes (base64url)');
  const routingKeyOf = routingHasher(routing);
  const controllerCvr = options.controllerCvr ?? '34051178';
  const { transport } = options;
  const sourceSystem = options.sourceSystem ?? options.producerKey?.producerId;
  if (sourceSystem === undefined) throw new SporbarError('SPB_ERR_CONFIG', 'sourceSystem is required when the producer has no producerKey');
  const signer = options.producerKey ? createProducerSigner(options.producerKey) : null;

  const fingerprints = new Map<EventType, string>();
  const fingerprintHex = (eventType: EventType): string => {
    let fp = fingerprints.get(eventType);
    if (fp === undefined) fingerprints.set(eventType, (fp = codec.fingerprintHex(eventType)));
    return fp;
  };

  // A pseudonym's routing key, remembered for the subjects seen last (a pseudonym is no personal data
  // in clear; CPR numbers are not kept).
  const pseudonymKeys = createCache<string, string>(ROUTING_KEY_CACHE);
  const routingKeyOfPseudonym = (pseudonym: string): string => {
    let key = pseudonymKeys.get(pseudonym);
    if (key === undefined) pseudonymKeys.set(pseudonym, (key = routingKeyOf(pseudonym)));
    return key;
  };

  /**
   * Checks, seals (CPR) or checks (pseudonym) the subject, builds, validates and encodes the event,
   * and hands it to the transport. The text rules (no control characters, nothing shaped like a CPR
   * number outside the subject: @sporbar/schemas text-rules) are applied to a draft of the event
   * before anything is sealed or sent. `build` spells the head fields out rather than spreading
   * them: V8 builds an object literal that starts with a spread and goes on with more fields some 20×
   * slower.
   */
  async function send<K extends EventType>(
    eventType: K,
    input: Common,
    build: (eventId: string, occurredAt: number, subject: SubjectRef) => EventMap[K],
    details?: PersonalDetails | null,
  ): Promise<Recorded> {
    const eventId = input.eventId ?? randomUUID();
    const occurredAt = toMicros(input.occurredAt ?? new Date());
    const subjectInput = input.subject;
    const event = build(eventId, occurredAt, DRAFT_SUBJECT) as EventMap[K] & { subject: SubjectRef; personalDetails?: unknown };
    // The personal details in clear are checked too (multi-line text allowed, no control characters).
    assertTextRules(details ? { ...event, personalDetails: details } : event, eventType);
    let key: string;
    if ('cpr' in subjectInput) {
      key = routingKeyOf(normaliseCpr(subjectInput.cpr)); // = routingKey(cpr, routingSecret); validates the CPR shape first
      // The same subject's envelope is reused within a seal session, found by its routing key (no CPR
      // is kept): the message key already tells one subject's events apart, so this reveals nothing more.
      event.subject = { scheme: 'SEALED', value: await sealer.seal(subjectInput.cpr, { reuseFor: key }) };
    } else {
      if (!PSEUDONYM_PATTERN.test(subjectInput.pseudonym)) {
        throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'subject.pseudonym: not a Sporbar pseudonym', { details: { path: 'subject.pseudonym' } });
      }
      event.subject = { scheme: 'PSEUDONYM', value: subjectInput.pseudonym };
      key = routingKeyOfPseudonym(subjectInput.pseudonym);
    }
    if (details) event.personalDetails = await sealer.sealBytes(Buffer.from(canonicalDetails(details)));
    const value = codec.encode(eventType, event); // throws SPB_ERR_SCHEMA_INVALID before anything is sent
    const auth = signer?.(value); // over exactly these bytes (which hold the eventId), the producer id and the key id
    const message: OutgoingMessage = {
      key,
      value,
      headers: auth
        ? {
            [HEADER_EVENT_TYPE]: eventType,
            [HEADER_FINGERPRINT]: fingerprintHex(eventType),
            [HEADER_EVENT_ID]: eventId,
            [HEADER_PRODUCER]: auth[HEADER_PRODUCER],
            [HEADER_KEY_ID]: auth[HEADER_KEY_ID],
            [HEADER_AUTH]: auth[HEADER_AUTH],
          }
        : { [HEADER_EVENT_TYPE]: eventType, [HEADER_FINGERPRINT]: fingerprintHex(eventType), [HEADER_EVENT_ID]: eventId },
    };
    await transport.send([message]);
    return { eventId, eventType };
  }

  return {
    async recordDisclosure(input) {
      const details = input.personalDetails ?? null;
      return send(
        'DisclosureRecorded',
        input,
        (eventId, occurredAt, subject): DisclosureRecorded => ({
          eventId,
          occurredAt,
          subject,
          sourceSystem,
          controllerCvr,
          activity: input.activity,
          recipient: { id: input.recipient.id, role: input.recipient.role },
          purpose: input.purpose,
          legalBases: [...input.legalBases],
          dataCategories: details ? [...new Set([...input.dataCategories, ...detailCategories(details)])] : [...new Set(input.dataCategories)],
          transfer: input.transfer ? { country: input.transfer.country, safeguard: input.transfer.safeguard } : null,
          personalDetails: null, // sealed by send() once the draft passed the text rules
          correlationId: input.correlationId ?? null,
        }),
        details,
      );
    },
    giveConsent: (input) => send('ConsentGiven', input, (eventId, occurredAt, subject) => ({ eventId, occurredAt, subject, sourceSystem, activity: input.activity, scope: input.scope })),
    withdrawConsent: (input) => send('ConsentWithdrawn', input, (eventId, occurredAt, subject) => ({ eventId, occurredAt, subject, sourceSystem, activity: input.activity, scope: input.scope })),
    requestErasure: (input) =>
      send('ErasureRequested', input, (eventId, occurredAt, subject) => ({ eventId, occurredAt, subject, sourceSystem, activity: input.activity ?? null, reason: input.reason })),
    recordReportViewed: (input) =>
      send('ReportViewed', input, (eventId, occurredAt, subject) => ({
        eventId,
        occurredAt,
        subject,
        viewerId: input.viewerId,
        viewerRole: input.viewerRole,
        reason: input.reason ?? null,
        view: input.view,
      })),
    recordRetentionExpired: (input) =>
      send('RetentionExpired', input, (eventId, occurredAt, subject) => ({
        eventId,
        occurredAt,
        subject,
        activity: input.activity,
        retentionRule: input.retentionRule,
        coversUntil: toMicros(input.coversUntil),
      })),
    flush: async () => {
      await transport.flush?.();
    },
    close: async () => {
      await transport.flush?.();
      await transport.close?.();
    },
  };
}
