/**
 * The processing register: the two privacy notices of Digitaliseringsstyrelsen (MitID v1.6 and the
 * NemKonto register) as typed data. Every item carries `sources`: a section reference and a verbatim
 * quote from the notice text kept next to this file (notices/*.txt), so a reviewer (and a test) can
 * check each item against the text.
 *
 * The four enums below are Avro enums of the event schemas. They are re-exported from the generated
 * event types (one declaration, so `export *` of both modules never clashes); the assertions below
 * pin their members, so a change in the Avro schemas that the register does not know about fails
 * the type check here.
 */
import {
  ConsentScopeValues,
  LegalBasisValues,
  RecipientRoleValues,
  TransferSafeguardValues,
  type ConsentScope,
  type LegalBasis,
  type RecipientRole,
  type TransferSafeguard,
} from '../generated/events.ts';

export type { ConsentScope, LegalBasis, RecipientRole, TransferSafeguard };

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type _FixedEnums = [
  Assert<Equal<LegalBasis, 'GDPR_ART6_1_A' | 'GDPR_ART6_1_E' | 'DPA_S11_1' | 'MITID_ACT_783_2021' | 'LBK_494_2023' | 'BEK_647_2021' | 'NOT_STATED'>>,
  Assert<Equal<RecipientRole, 'CONTROLLER' | 'PROCESSOR' | 'SUB_PROCESSOR' | 'PUBLIC_AUTHORITY' | 'PRIVATE_PAYER' | 'FINANCIAL_INSTITUTION' | 'EXTERNAL_AUDITOR' | 'UNKNOWN'>>,
  Assert<Equal<TransferSafeguard, 'NONE' | 'ADEQUACY_DECISION' | 'STANDARD_CONTRACTUAL_CLAUSES' | 'DATA_SUBJECT_REQUEST'>>,
  Assert<Equal<ConsentScope, 'CALL_RECORDING' | 'SCREEN_SHARING' | 'SATISFACTION_SURVEY' | 'CALL_ANALYSIS' | 'TREND_SURVEY'>>,
];

export const LEGAL_BASES: readonly LegalBasis[] = LegalBasisValues;
export const RECIPIENT_ROLES: readonly RecipientRole[] = RecipientRoleValues;
export const TRANSFER_SAFEGUARDS: readonly TransferSafeguard[] = TransferSafeguardValues;
export const CONSENT_SCOPES: readonly ConsentScope[] = ConsentScopeValues;

/**
 * A notice's id: the directory its version files live in (register/<notice>/<version>.yaml), e.g.
 * 'mitid' or 'nemkonto'. Data, not a union: a notice of another authority is added as files only, and
 * the loaded files (the register's `notices`) are what an id is checked against.
 */
export type NoticeId = string;

/** Where in a notice an item comes from: `source` is e.g. 'MitID §5' or 'NemKonto: recipients'; `quote` is verbatim. */
export interface SourceRef {
  readonly source: string;
  readonly quote: string;
}

export type Sources = readonly [SourceRef, ...SourceRef[]];

export interface PostalAddress {
  readonly recipient: string;
  readonly attention?: string;
  readonly street: string;
  readonly postcode: string;
  readonly city: string;
}

export interface DpoContact {
  readonly appointedBy: string;
  readonly email: string;
  readonly postal: readonly PostalAddress[];
  /** How to write to the DPO through Digital Post (only the MitID notice states this; absent when no notice in force does). */
  readonly digitalPost?: string;
  /** Both notices ask not to send CPR numbers or other sensitive/confidential data by e-mail. */
  readonly emailCaution: string;
  readonly sources: Sources;
}

export interface Controller {
  readonly id: string;
  readonly name: string;
  readonly nameEn: string;
  /** Danish Central Business Register number, digits only. */
  readonly cvr: string;
  readonly address: PostalAddress;
  readonly phone: string;
  readonly email: string;
  readonly dpo: DpoContact;
  readonly sources: Sources;
}

export interface ComplaintAuthority {
  readonly id: string;
  readonly name: string;
  readonly nameEn: string;
  readonly website: string;
  readonly sources: Sources;
}

export interface Notice {
  readonly id: NoticeId;
  readonly title: string;
  /** The version the notice states; null when it states none (NemKonto). */
  readonly version: string | null;
  readonly language: 'en';
  readonly controllerId: string;
  readonly complaintAuthorityId: string;
  readonly activityIds: readonly string[];
  /** The notice's general statement on transfers outside the EU/EEA. */
  readonly thirdCountryPolicy: string;
  /** The caveat both notices attach to the rights: exceptions apply to public authorities. */
  readonly rightsCaveat: string;
  /** GDPR Art. 15(1)(h): what the notice says about automated decisions, including profiling. */
  readonly automatedDecisions: AutomatedDecisions;
  /** File name under notices/ holding the text the quotes are taken from. */
  readonly textFile: string;
  /** Things in the text a reviewer should know about (inconsistencies, omissions) and how the register reads them. */
  readonly remarks: readonly string[];
  readonly sources: Sources;
}

/**
 * What a notice says about automated decisions, including profiling (GDPR Art. 13(2)(f), 15(1)(h)):
 * 'not-stated' (it says nothing), 'none' (it says there are none) or 'described' (`text` says what).
 */
export type AutomatedDecisionsStatus = 'not-stated' | 'none' | 'described';
export const AUTOMATED_DECISIONS_STATUSES: readonly AutomatedDecisionsStatus[] = ['not-stated', 'none', 'described'];

export interface AutomatedDecisions {
  readonly status: AutomatedDecisionsStatus;
  /** English; the register files hold it in both languages. */
  readonly text?: string;
  readonly sources?: readonly SourceRef[];
}

export interface LegalBasisDefinition {
  readonly id: LegalBasis;
  readonly title: string;
  readonly reference: string;
  /** False only for NOT_STATED: a flow may never declare it. */
  readonly declarable: boolean;
  readonly sources: readonly SourceRef[];
}

export interface Purpose {
  readonly id: string;
  readonly noticeId: NoticeId;
  readonly description: string;
  readonly sources: Sources;
}

export interface DataCategory {
  readonly id: string;
  readonly name: string;
  readonly noticeIds: readonly NoticeId[];
  readonly description: string;
  /** The notice says the data may be subject to special rules (GDPR Art. 9 / sensitive). */
  readonly special: boolean;
  /** The notice calls the data confidential (fortrolig), e.g. the CPR number. */
  readonly confidential: boolean;
  /** MitID §4 marks some categories mandatory or optional. */
  readonly requirement?: 'mandatory' | 'optional' | 'mandatory-for-app' | 'automatic';
  /** A legal basis every disclosure of this category must state (the CPR number needs DPA §11(1)). */
  readonly requiredLegalBasis?: LegalBasis;
  /** Held only in anonymised form: not personal data, listed because a retention rule names it. */
  readonly anonymised?: boolean;
  readonly sources: Sources;
}

export interface RegisterRecipient {
  readonly id: string;
  readonly name: string;
  /** The role the notice gives (or, where it gives none, the register's reading: see `roleNote`). */
  readonly role: RecipientRole;
  readonly roleNote?: string;
  readonly cvr?: string;
  /** True when the notice names a category of recipients rather than one legal entity. */
  readonly isCategory: boolean;
  readonly description: string;
  readonly sources: Sources;
}

export type RetentionPeriod =
  /** A fixed ISO-8601 duration from the time the data arose (P30D, PT1H, P6M, P5Y ...). */
  | { readonly kind: 'fixed'; readonly iso: string }
  /** Until the end of the calendar year of the last event plus `years` years (NemKonto: current year + 10). */
  | { readonly kind: 'end-of-year-plus'; readonly years: number }
  /** As long as necessary for the purpose (MitID core): no fixed deadline. */
  | { readonly kind: 'while-necessary' }
  /** Archived and kept (forwarded inquiries, complaints): no deadline stated. */
  | { readonly kind: 'archived' }
  /** Never stored: shown only while the call lasts (CPR number typed in the MitID support phone menu). */
  | { readonly kind: 'not-retained' }
  /** The notice names the processing but states no retention for it. */
  | { readonly kind: 'not-stated' };

export interface RetentionRule {
  readonly id: string;
  readonly noticeId: NoticeId;
  readonly activityIds: readonly string[];
  readonly categoryIds: readonly string[];
  readonly period: RetentionPeriod;
  /** When the rule applies (e.g. 'passport not issued in Denmark', 'with consent to call recording'). */
  readonly condition?: string;
  /** What the clock starts from. */
  readonly startsAt: string;
  readonly description: string;
  readonly sources: Sources;
}

export interface ThirdCountryRule {
  readonly id: string;
  readonly noticeId: NoticeId;
  readonly activityIds: readonly string[];
  /** ISO 3166-1 alpha-2 codes, or 'ANY' for any country outside the EU/EEA. */
  readonly countries: readonly string[] | 'ANY';
  readonly safeguard: TransferSafeguard;
  /** The safeguard in the notice's own words (e.g. the article it cites), English. */
  readonly safeguardText?: string;
  /** When set, the rule only covers these recipients. */
  readonly recipientIds?: readonly string[];
  readonly condition: string;
  readonly sources: Sources;
}

export type CollectionSourceKind = 'data-subject' | 'intermediary' | 'public-registry' | 'self-service' | 'financial-institution' | 'public-authority';

export interface CollectionSource {
  readonly id: string;
  readonly name: string;
  readonly kind: CollectionSourceKind;
  readonly activityIds: readonly string[];
  readonly categoryIds: readonly string[];
  readonly description: string;
  readonly sources: Sources;
}

export type DataSubjectRightKind = 'access' | 'rectification' | 'erasure' | 'restriction' | 'objection' | 'portability' | 'withdraw-consent';
export const DATA_SUBJECT_RIGHT_KINDS: readonly DataSubjectRightKind[] = ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'];

export interface DataSubjectRight {
  readonly id: string;
  readonly noticeId: NoticeId;
  readonly right: DataSubjectRightKind;
  /** 'not-stated': the notice does not mention the right at all. */
  readonly status: 'applicable' | 'not-applicable' | 'not-stated';
  /** Why the right does not apply, or what limits it. */
  readonly reason?: string;
  /** The activities it is relevant for (withdrawal of consent: support only). */
  readonly activityIds: readonly string[];
  /** How to exercise it, as the notice says. */
  readonly channels: readonly string[];
  readonly sources: Sources;
}

export interface Flow {
  readonly id: string;
  readonly recipientId: string;
  /** Roles the recipient may have in this flow (first = the notice's primary reading). */
  readonly roles: readonly [RecipientRole, ...RecipientRole[]];
  readonly purposeIds: readonly string[];
  readonly legalBases: readonly LegalBasis[];
  readonly categoryIds: readonly string[];
  /** 'stated': the notice names what this recipient gets; 'inferred': it names only the recipient. */
  readonly categoriesBasis: 'stated' | 'inferred';
  /** Non-empty: the flow rests on consent; any one of these scopes is enough. */
  readonly consentScopes: readonly ConsentScope[];
  readonly retentionRuleIds: readonly string[];
  readonly description: string;
  readonly sources: Sources;
}

export interface ProcessingActivity {
  readonly id: string;
  readonly noticeId: NoticeId;
  readonly name: string;
  readonly description: string;
  readonly dataSubjects: readonly string[];
  readonly purposeIds: readonly string[];
  readonly legalBases: readonly LegalBasis[];
  readonly categoryIds: readonly string[];
  readonly retentionRuleIds: readonly string[];
  readonly thirdCountryRuleIds: readonly string[];
  readonly collectionSourceIds: readonly string[];
  readonly flows: readonly Flow[];
  readonly sources: Sources;
}

export interface ProcessingRegister {
  readonly registerVersion: string;
  readonly controllers: readonly Controller[];
  readonly complaintAuthorities: readonly ComplaintAuthority[];
  readonly notices: readonly Notice[];
  readonly legalBases: readonly LegalBasisDefinition[];
  readonly purposes: readonly Purpose[];
  readonly dataCategories: readonly DataCategory[];
  readonly recipients: readonly RegisterRecipient[];
  readonly retentionRules: readonly RetentionRule[];
  readonly thirdCountryRules: readonly ThirdCountryRule[];
  readonly collectionSources: readonly CollectionSource[];
  readonly rights: readonly DataSubjectRight[];
  readonly activities: readonly ProcessingActivity[];
}

/** A problem `validateRegister` found; `path` points into the register (e.g. activities[2].flows[0].recipientId). */
export interface RegisterIssue {
  readonly code:
    | 'DUPLICATE_ID'
    | 'INVALID_ID'
    | 'DANGLING_REFERENCE'
    | 'UNUSED_RECIPIENT'
    | 'CONSENT_WITHOUT_ART6_1_A'
    | 'ART6_1_A_WITHOUT_CONSENT_SCOPE'
    | 'NOT_STATED_DECLARED'
    | 'REQUIRED_BASIS_MISSING'
    | 'NOT_IN_ACTIVITY'
    | 'CATEGORY_WITHOUT_RETENTION'
    | 'INVALID_RETENTION'
    | 'EMPTY'
    | 'MISSING_SOURCE'
    | 'RIGHTS_INCOMPLETE';
  readonly path: string;
  readonly message: string;
}
