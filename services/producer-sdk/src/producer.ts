import { createHmac, randomUUID } from 'node:crypto';
import {
  createCodec,
  createSubjectSealer,
  routingKey,
  SporbarError,
  toMicros,
  type Codec,
  type ConsentScope,
  type DisclosureRecorded,
  type EventMap,
  type EventType,
  type LegalBasis,
  type RecipientRole,
  type SubjectRef,
  type TransferSafeguard,
  type ViewerRole,
  type PersonalDetails,
  canonicalDetails,
  detailCategories,
  PSEUDONYM_PATTERN,
} from '@sporbar/schemas';
import { HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_FINGERPRINT, type OutgoingMessage, type Transport } from './transport.ts';

export interface ProducerOptions {
  readonly transport: Transport;
  /** The ingest's seal public key (base64url, 32 bytes). */
  readonly sealPublicKey: string;
  /** Secret for partition keys (base64url, ≥ 32 bytes); the same for every producer. */
  readonly routingSecret: string;
  /** Which operational system this is, e.g. 'mitid-core'. */
  readonly sourceSystem: string;
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
  const controllerCvr = options.controllerCvr ?? '34051178';
  const { transport, sourceSystem } = options;

  const subjectRef = async (subject: SubjectInput): Promise<SubjectRef> => {
    if ('cpr' in subject) return { scheme: 'SEALED', value: await sealer.seal(subject.cpr) }; // validates the CPR shape first
    if (!PSEUDONYM_PATTERN.test(subject.pseudonym)) {
      throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'subject.pseudonym: not a Sporbar pseudonym', { details: { path: 'subject.pseudonym' } });
    }
    return { scheme: 'PSEUDONYM', value: subject.pseudonym };
  };
  const routingKeyOfPseudonym = (pseudonym: string) => createHmac('sha256', routing).update(pseudonym).digest('base64url').slice(0, 16);

  async function send<K extends EventType>(eventType: K, input: Common, build: (common: { eventId: string; occurredAt: number; subject: SubjectRef }) => EventMap[K]): Promise<Recorded> {
    const common = {
      eventId: input.eventId ?? randomUUID(),
      occurredAt: toMicros(input.occurredAt ?? new Date()),
      subject: await subjectRef(input.subject),
    };
    const key = 'cpr' in input.subject ? routingKey(input.subject.cpr, routing) : routingKeyOfPseudonym(input.subject.pseudonym);
    const event = build(common);
    const value = codec.encode(eventType, event); // throws SPB_ERR_SCHEMA_INVALID before anything is sent
    const message: OutgoingMessage = {
      key,
      value,
      headers: { [HEADER_EVENT_TYPE]: eventType, [HEADER_FINGERPRINT]: codec.fingerprintHex(eventType), [HEADER_EVENT_ID]: common.eventId },
    };
    await transport.send([message]);
    return { eventId: common.eventId, eventType };
  }

  return {
    async recordDisclosure(input) {
      const details = input.personalDetails ?? null;
      const sealedDetails = details ? await sealer.sealBytes(Buffer.from(canonicalDetails(details))) : null;
      return send('DisclosureRecorded', input, (c): DisclosureRecorded => ({
        ...c,
        sourceSystem,
        controllerCvr,
        activity: input.activity,
        recipient: { id: input.recipient.id, role: input.recipient.role },
        purpose: input.purpose,
        legalBases: [...input.legalBases],
        dataCategories: [...new Set([...input.dataCategories, ...(details ? detailCategories(details) : [])])],
        transfer: input.transfer ? { country: input.transfer.country, safeguard: input.transfer.safeguard } : null,
        personalDetails: sealedDetails,
        correlationId: input.correlationId ?? null,
      }));
    },
    giveConsent: (input) => send('ConsentGiven', input, (c) => ({ ...c, sourceSystem, activity: input.activity, scope: input.scope })),
    withdrawConsent: (input) => send('ConsentWithdrawn', input, (c) => ({ ...c, sourceSystem, activity: input.activity, scope: input.scope })),
    requestErasure: (input) => send('ErasureRequested', input, (c) => ({ ...c, sourceSystem, activity: input.activity ?? null, reason: input.reason })),
    recordReportViewed: (input) =>
      send('ReportViewed', input, (c) => ({ ...c, viewerId: input.viewerId, viewerRole: input.viewerRole, reason: input.reason ?? null, view: input.view })),
    recordRetentionExpired: (input) =>
      send('RetentionExpired', input, (c) => ({ ...c, activity: input.activity, retentionRule: input.retentionRule, coversUntil: toMicros(input.coversUntil) })),
    flush: async () => {
      await transport.flush?.();
    },
    close: async () => {
      await transport.flush?.();
      await transport.close?.();
    },
  };
}
