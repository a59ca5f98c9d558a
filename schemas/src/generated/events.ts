// Generated from schemas/avro/*/v<N>.avsc by `npm run schemas:gen`. Do not edit by hand.

/** A canonical UUID string (Avro logical type uuid). */
export type Uuid = string;
/** Microseconds since the Unix epoch (Avro logical type timestamp-micros). */
export type TimestampMicros = number;

/** Avro fixed(32). */
export type Sha256 = Buffer;

export type SignatureAlgorithm = 'ED25519';
export const SignatureAlgorithmValues = ['ED25519'] as const;

/** A signed tree head of the Merkle log over the global order (RFC 9162 style). */
export interface CheckpointSigned {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  treeSize: number;
  rootHash: Sha256;
  keyId: string;
  algorithm: SignatureAlgorithm;
  signature: Buffer;
}

export type SubjectScheme = 'SEALED' | 'PSEUDONYM';
export const SubjectSchemeValues = ['SEALED', 'PSEUDONYM'] as const;

/** Who the data is about. Never a CPR number in clear: SEALED on the wire, PSEUDONYM in the store. */
export interface SubjectRef {
  scheme: SubjectScheme;
  value: string;
}

export type ConsentScope = 'CALL_RECORDING' | 'SCREEN_SHARING' | 'SATISFACTION_SURVEY' | 'CALL_ANALYSIS' | 'TREND_SURVEY';
export const ConsentScopeValues = ['CALL_RECORDING', 'SCREEN_SHARING', 'SATISFACTION_SURVEY', 'CALL_ANALYSIS', 'TREND_SURVEY'] as const;

/** The subject consented to a consent-based processing (GDPR Art. 6(1)(a)), e.g. support call recording. */
export interface ConsentGiven {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  sourceSystem: string;
  activity: string;
  subject: SubjectRef;
  scope: ConsentScope;
}

/** The subject withdrew a consent; it takes effect from this moment on. */
export interface ConsentWithdrawn {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  sourceSystem: string;
  activity: string;
  subject: SubjectRef;
  scope: ConsentScope;
}

export type RecipientRole = 'CONTROLLER' | 'PROCESSOR' | 'SUB_PROCESSOR' | 'PUBLIC_AUTHORITY' | 'PRIVATE_PAYER' | 'FINANCIAL_INSTITUTION' | 'EXTERNAL_AUDITOR' | 'UNKNOWN';
export const RecipientRoleValues = ['CONTROLLER', 'PROCESSOR', 'SUB_PROCESSOR', 'PUBLIC_AUTHORITY', 'PRIVATE_PAYER', 'FINANCIAL_INSTITUTION', 'EXTERNAL_AUDITOR', 'UNKNOWN'] as const;

export interface Recipient {
  /** Recipient id from the processing register (undeclared ids are kept and flagged). */
  id: string;
  role: RecipientRole;
}

export type LegalBasis = 'GDPR_ART6_1_A' | 'GDPR_ART6_1_E' | 'DPA_S11_1' | 'MITID_ACT_783_2021' | 'LBK_494_2023' | 'BEK_647_2021' | 'NOT_STATED';
export const LegalBasisValues = ['GDPR_ART6_1_A', 'GDPR_ART6_1_E', 'DPA_S11_1', 'MITID_ACT_783_2021', 'LBK_494_2023', 'BEK_647_2021', 'NOT_STATED'] as const;

export type TransferSafeguard = 'NONE' | 'ADEQUACY_DECISION' | 'STANDARD_CONTRACTUAL_CLAUSES' | 'DATA_SUBJECT_REQUEST';
export const TransferSafeguardValues = ['NONE', 'ADEQUACY_DECISION', 'STANDARD_CONTRACTUAL_CLAUSES', 'DATA_SUBJECT_REQUEST'] as const;

/** Set when the data leaves the EU/EEA. */
export interface Transfer {
  /** ISO 3166-1 alpha-2. */
  country: string;
  safeguard: TransferSafeguard;
}

/** Personal data about one subject was disclosed to one recipient for one purpose. */
export interface DisclosureRecorded {
  /** Idempotency key, chosen by the producer. */
  eventId: Uuid;
  occurredAt: TimestampMicros;
  /** The operational system that disclosed, e.g. mitid-core. */
  sourceSystem: string;
  /** CVR number of the data controller, e.g. 34051178. */
  controllerCvr: string;
  /** Processing activity id from the processing register. */
  activity: string;
  subject: SubjectRef;
  recipient: Recipient;
  /** Purpose id from the processing register. */
  purpose: string;
  legalBases: Array<LegalBasis>;
  dataCategories: Array<string>;
  transfer: null | Transfer;
  /** Personal details (IP, account number, benefit type, free text): encrypted with the subject's data key. */
  personalDetails: null | Buffer;
  /** Ties disclosures of one business transaction together (one MitID login, one payment). Added in v2. */
  correlationId: null | string;
}

/** The subject (or a caseworker on their behalf) asked for erasure (GDPR Art. 17). Leads to SubjectKeyShredded. */
export interface ErasureRequested {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  sourceSystem: string;
  subject: SubjectRef;
  /** Limit to one activity; null = every activity. */
  activity: null | string;
  reason: string;
}

/** A version of a privacy notice, as register data, was put into use: from now on disclosures in its effective period are judged by it. Appended by the ingest at start for every loaded version not yet in the log (eventId derived from the content hashes, so it is stored once). */
export interface RegisterPublished {
  /** deterministicUuid('RegisterPublished', contentSha256, sharedSha256). */
  eventId: Uuid;
  /** When it was published: first put into use by an ingest. */
  occurredAt: TimestampMicros;
  /** The notice id, e.g. mitid (the directory of its files). */
  notice: string;
  /** The version the notice states, e.g. 1.6; null when it states none. */
  version: null | string;
  /** The file within the register directory, e.g. mitid/1.6.yaml. */
  path: string;
  /** The first instant the version is in force. */
  effectiveFrom: TimestampMicros;
  /** The first instant it is no longer in force; null: until further notice. */
  effectiveTo: null | TimestampMicros;
  /** The data controller the notice names. */
  controllerName: string;
  /** Its CVR number. */
  controllerCvr: string;
  /** SHA-256 (lowercase hex) of the notice-version file's bytes: what a classification names (metadata noticeSha256). */
  contentSha256: string;
  /** SHA-256 (lowercase hex) of shared.yaml's bytes: the definitions the version was composed with. */
  sharedSha256: string;
}

export type ViewerRole = 'CITIZEN' | 'CASEWORKER' | 'DPO' | 'AUDITOR';
export const ViewerRoleValues = ['CITIZEN', 'CASEWORKER', 'DPO', 'AUDITOR'] as const;

/** Someone looked at a subject's disclosures: who, in which role, why. */
export interface ReportViewed {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  subject: SubjectRef;
  /** The token subject of the viewer (a pseudonym for citizens). */
  viewerId: string;
  viewerRole: ViewerRole;
  /** Stated reason, e.g. a case number; required for caseworkers. */
  reason: null | string;
  /** What was looked at, e.g. GET /v1/subjects/:ref/disclosures. */
  view: string;
}

/** A retention rule of the register ran out for a subject's data in one activity. */
export interface RetentionExpired {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  subject: SubjectRef;
  activity: string;
  /** Retention rule id from the register. */
  retentionRule: string;
  /** Data that occurred up to this instant is expired. */
  coversUntil: TimestampMicros;
}

export type ShredCause = 'ERASURE_REQUESTED' | 'RETENTION_EXPIRED';
export const ShredCauseValues = ['ERASURE_REQUESTED', 'RETENTION_EXPIRED'] as const;

/** The subject's data key was destroyed: the personal details of their events can no longer be decrypted. */
export interface SubjectKeyShredded {
  eventId: Uuid;
  occurredAt: TimestampMicros;
  subject: SubjectRef;
  keyId: string;
  cause: ShredCause;
  causationEventId: Uuid;
}

/** The root of the subject map (docs/subject-map.md) over the log's first treeSize leaves: for each subject's map index, the count and hash-chain head of that subject's DisclosureRecorded leaves. Written by the checkpointer as a leaf of the log, so the next checkpoint, its signature and its witnesses cover it. */
export interface SubjectMapCommitted {
  /** Derived from (origin, treeSize): a second signer committing the same size writes nothing new. */
  eventId: Uuid;
  occurredAt: TimestampMicros;
  /** The map covers log leaves 0 .. treeSize-1. */
  treeSize: number;
  rootHash: Sha256;
}

export const EVENT_TYPES = ['CheckpointSigned', 'ConsentGiven', 'ConsentWithdrawn', 'DisclosureRecorded', 'ErasureRequested', 'RegisterPublished', 'ReportViewed', 'RetentionExpired', 'SubjectKeyShredded', 'SubjectMapCommitted'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventMap {
  CheckpointSigned: CheckpointSigned;
  ConsentGiven: ConsentGiven;
  ConsentWithdrawn: ConsentWithdrawn;
  DisclosureRecorded: DisclosureRecorded;
  ErasureRequested: ErasureRequested;
  RegisterPublished: RegisterPublished;
  ReportViewed: ReportViewed;
  RetentionExpired: RetentionExpired;
  SubjectKeyShredded: SubjectKeyShredded;
  SubjectMapCommitted: SubjectMapCommitted;
}

/** Any Sporbar event with its type tag. */
export type SporbarEvent = { [K in EventType]: { type: K; data: EventMap[K] } }[EventType];
