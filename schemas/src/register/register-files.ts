/**
 * The register as data files (schemas/register/): the shapes of the files and the pure composition of
 * parsed files into a `ProcessingRegister`. No I/O here: `load-register.ts` reads the files.
 *
 *  - `shared.yaml` (`SharedFile`): the definitions more than one notice uses (every legal basis, the data
 *    categories, the recipients and collection sources several notices name); no quotes.
 *  - `<notice>/<version>.yaml` (`NoticeVersionFile`): one version of one notice, with its effective
 *    period, its controller and everything it says, each text (`{ en, da }`) next to the quotes it renders.
 *
 * An item several files name (same id) is merged: quotes (`sources`) and other lists of objects are
 * concatenated in file order, lists of ids are united in order of first appearance, nested objects are
 * merged field by field, and any other field must be equal wherever it is given (else SPB_ERR_REGISTER_INVALID).
 * Items keep the order of first appearance over the notice files (in the order given), then the shared file.
 */
import { SporbarError } from '@sporbar/common/errors';
import type {
  AutomatedDecisionsStatus,
  CollectionSourceKind,
  ConsentScope,
  DataSubjectRightKind,
  TransferSafeguard,
  DataCategory,
  DataSubjectRight,
  Flow,
  LegalBasis,
  NoticeId,
  PostalAddress,
  ProcessingActivity,
  ProcessingRegister,
  RecipientRole,
  RetentionRule,
  Sources,
  SourceRef,
  ThirdCountryRule,
} from './types.ts';

/** A text in both languages. The notices we hold are English; the Danish is the register's own rendering. */
export interface Text {
  readonly en: string;
  readonly da: string;
}

export interface EffectivePeriod {
  /** RFC 3339 date-time with offset: the first instant the version is in force. */
  readonly from: string;
  /** RFC 3339 date-time with offset: the first instant it is no longer in force (absent: still in force). */
  readonly to?: string;
}

export interface LegalBasisDef {
  readonly id: LegalBasis;
  readonly title: Text;
  /** The law or article, as a citizen reads it in each language. */
  readonly reference: Text;
  readonly declarable: boolean;
}

export interface DataCategoryDef {
  readonly id: string;
  readonly name: Text;
  readonly text: Text;
  readonly special: boolean;
  readonly confidential: boolean;
  readonly requiredLegalBasis?: LegalBasis;
  readonly anonymised?: boolean;
}

export interface RecipientDef {
  readonly id: string;
  readonly name: Text;
  readonly role: RecipientRole;
  readonly roleNote?: Text;
  readonly cvr?: string;
  readonly isCategory: boolean;
  readonly text: Text;
}

export interface CollectionSourceDef {
  readonly id: string;
  readonly name: Text;
  readonly kind: CollectionSourceKind;
  readonly text: Text;
}

/** A code's words: its name (and, for roles and rights, what it means) in both languages. */
export interface RoleDef {
  readonly id: RecipientRole;
  readonly name: Text;
  readonly text: Text;
}

export interface SafeguardDef {
  readonly id: TransferSafeguard;
  readonly name: Text;
}

export interface RightDef {
  readonly id: DataSubjectRightKind;
  readonly name: Text;
  readonly text: Text;
}

export interface ConsentScopeDef {
  readonly id: ConsentScope;
  readonly name: Text;
}

/** A country outside the EU/EEA by its ISO 3166-1 alpha-2 code. */
export interface CountryDef {
  readonly id: string;
  readonly name: Text;
}

/** A field name of a disclosure's personal details (the producers choose them, camelCase). */
export interface DetailFieldDef {
  readonly id: string;
  readonly name: Text;
}

export interface SharedFile {
  readonly registerVersion: string;
  readonly legalBases: readonly LegalBasisDef[];
  readonly dataCategories: readonly DataCategoryDef[];
  readonly recipients: readonly RecipientDef[];
  readonly collectionSources: readonly CollectionSourceDef[];
  /** The vocabularies: every code a citizen could meet, in words (see words.ts). */
  readonly roles: readonly RoleDef[];
  readonly safeguards: readonly SafeguardDef[];
  readonly rights: readonly RightDef[];
  readonly consentScopes: readonly ConsentScopeDef[];
  readonly countries: readonly CountryDef[];
  readonly detailFields: readonly DetailFieldDef[];
}

export interface ControllerEntry {
  readonly id: string;
  readonly name: string;
  readonly nameEn: string;
  readonly cvr: string;
  readonly address: PostalAddress;
  readonly phone: string;
  readonly email: string;
  readonly dpo: {
    readonly appointedBy: string;
    readonly email: string;
    readonly emailCaution: string;
    readonly postal: readonly PostalAddress[];
    readonly digitalPost?: string;
    readonly sources: Sources;
  };
  readonly sources: Sources;
}

export interface ComplaintAuthorityEntry {
  readonly id: string;
  readonly name: string;
  readonly nameEn: string;
  readonly website: string;
  readonly sources: Sources;
}

/** The quotes a notice gives for a legal basis defined in the shared file. */
export interface LegalBasisEntry {
  readonly id: LegalBasis;
  readonly sources: Sources;
}

export interface PurposeEntry {
  readonly id: string;
  readonly text: Text;
  readonly sources: Sources;
}

/** A data category the notice names: defined here or (name, text and flags omitted) in the shared file. */
export interface DataCategoryEntry extends Partial<Omit<DataCategoryDef, 'id'>> {
  readonly id: string;
  readonly requirement?: NonNullable<DataCategory['requirement']>;
  readonly sources: Sources;
}

/** A recipient the notice names: defined here or (all but id and sources omitted) in the shared file. */
export interface RecipientEntry extends Partial<Omit<RecipientDef, 'id'>> {
  readonly id: string;
  readonly sources: Sources;
}

// The file's entries are the register's own types without the notice id (the file names it once) and with
// a text in both languages where the register holds its English description.
export interface RetentionRuleEntry extends Omit<RetentionRule, 'noticeId' | 'description' | 'condition' | 'startsAt'> {
  readonly condition?: Text;
  readonly startsAt: Text;
  readonly text: Text;
}

export interface ThirdCountryRuleEntry extends Omit<ThirdCountryRule, 'noticeId' | 'condition' | 'safeguardText'> {
  readonly condition: Text;
  readonly safeguardText?: Text;
}

export interface CollectionSourceEntry extends Partial<Omit<CollectionSourceDef, 'id'>> {
  readonly id: string;
  readonly activityIds: readonly string[];
  readonly categoryIds: readonly string[];
  readonly sources: Sources;
}

export interface RightEntry extends Omit<DataSubjectRight, 'noticeId' | 'reason' | 'channels'> {
  readonly reason?: Text;
  readonly channels: readonly Text[];
}

export interface AutomatedDecisionsEntry {
  readonly status: AutomatedDecisionsStatus;
  readonly text?: Text;
  readonly sources?: Sources;
}

export interface FlowEntry extends Omit<Flow, 'description'> {
  readonly text: Text;
}

export interface ActivityEntry extends Omit<ProcessingActivity, 'noticeId' | 'name' | 'description' | 'flows' | 'dataSubjects'> {
  readonly name: Text;
  readonly dataSubjects: readonly Text[];
  readonly text: Text;
  readonly flows: readonly FlowEntry[];
}

export interface NoticeVersionFile {
  readonly notice: NoticeId;
  /** The version the notice states; null when it states none. */
  readonly version: string | null;
  readonly effective: EffectivePeriod;
  readonly title: Text;
  readonly language: 'en';
  /** File name under src/register/notices/ holding the text the quotes are taken from. */
  readonly textFile: string;
  readonly controller: ControllerEntry;
  readonly complaintAuthority: ComplaintAuthorityEntry;
  readonly thirdCountryPolicy: Text;
  readonly rightsCaveat: Text;
  readonly automatedDecisions: AutomatedDecisionsEntry;
  readonly remarks: readonly string[];
  readonly sources: Sources;
  readonly legalBases: readonly LegalBasisEntry[];
  readonly purposes: readonly PurposeEntry[];
  readonly dataCategories: readonly DataCategoryEntry[];
  readonly recipients: readonly RecipientEntry[];
  readonly retentionRules: readonly RetentionRuleEntry[];
  readonly thirdCountryRules: readonly ThirdCountryRuleEntry[];
  readonly collectionSources: readonly CollectionSourceEntry[];
  readonly rights: readonly RightEntry[];
  readonly activities: readonly ActivityEntry[];
}

// ---------------------------------------------------------------------------------------------------
// Merging items several files name
// ---------------------------------------------------------------------------------------------------
type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const conflict = (path: string, a: unknown, b: unknown): never => {
  throw new SporbarError('SPB_ERR_REGISTER_INVALID', `register files disagree on ${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`, {
    details: { path },
  });
};

function mergeValue(path: string, a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.every((x) => typeof x === 'string') && b.every((x) => typeof x === 'string')) return [...new Set([...(a as string[]), ...(b as string[])])];
    if (a.every(isPlain) && b.every(isPlain)) return [...a, ...b];
  }
  if (isPlain(a) && isPlain(b)) {
    const out: Plain = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergeValue(`${path}.${k}`, out[k], v);
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? a : conflict(path, a, b);
}

/** Merges items by id, in order of first appearance. */
function mergeById(kind: string, lists: readonly (readonly { readonly id: string }[])[]): Map<string, Plain> {
  const out = new Map<string, Plain>();
  for (const list of lists) {
    for (const item of list) {
      const prev = out.get(item.id);
      out.set(item.id, prev === undefined ? { ...item } : (mergeValue(`${kind} "${item.id}"`, prev, item) as Plain));
    }
  }
  return out;
}

const need = (kind: string, item: Plain, fields: readonly string[]): void => {
  const missing = fields.filter((f) => item[f] === undefined);
  if (missing.length > 0) {
    throw new SporbarError('SPB_ERR_REGISTER_INVALID', `${kind} "${String(item.id)}" has no ${missing.join(', ')} in any register file`, {
      details: { kind, id: item.id, missing },
    });
  }
};

const en = (t: unknown): string => (t as Text).en;
const withSources = (x: Plain): Sources => (x.sources ?? []) as SourceRef[] as unknown as Sources;
const opt = <K extends string>(key: K, v: unknown): Partial<Record<K, string>> => (v === undefined ? {} : ({ [key]: v } as Record<K, string>));

/**
 * Composes parsed register files into one `ProcessingRegister`: the shared definitions and the notice
 * versions given (at most one per notice, in the order they should appear). Pure; throws
 * SPB_ERR_REGISTER_INVALID when files disagree or an item is nowhere defined. The result is not yet
 * checked for referential integrity (`assertValidRegister`).
 */
export function composeRegister(shared: SharedFile, versions: readonly NoticeVersionFile[]): ProcessingRegister {
  const seen = new Set<string>();
  for (const v of versions) {
    if (seen.has(v.notice)) throw new SporbarError('SPB_ERR_REGISTER_INVALID', `two versions of notice "${v.notice}" composed into one register`, { details: { notice: v.notice } });
    seen.add(v.notice);
  }

  const controllers = mergeById('controller', versions.map((v) => [v.controller]));
  const authorities = mergeById('complaint authority', versions.map((v) => [v.complaintAuthority]));
  const bases = mergeById('legal basis', [...versions.map((v) => v.legalBases), shared.legalBases]);
  const categoryNotices = new Map<string, NoticeId[]>();
  versions.forEach((v) => v.dataCategories.forEach((c) => categoryNotices.set(c.id, [...(categoryNotices.get(c.id) ?? []), v.notice])));
  const inNotices = <T extends { id: string }>(defs: readonly T[], named: ReadonlySet<string>): T[] => defs.filter((d) => named.has(d.id));
  const ids = (lists: readonly (readonly { id: string }[])[]): Set<string> => new Set(lists.flatMap((l) => l.map((x) => x.id)));
  const categories = mergeById('data category', [...versions.map((v) => v.dataCategories), inNotices(shared.dataCategories, ids(versions.map((v) => v.dataCategories)))]);
  const recipients = mergeById('recipient', [...versions.map((v) => v.recipients), inNotices(shared.recipients, ids(versions.map((v) => v.recipients)))]);
  const collection = mergeById('collection source', [...versions.map((v) => v.collectionSources), inNotices(shared.collectionSources, ids(versions.map((v) => v.collectionSources)))]);

  return {
    registerVersion: shared.registerVersion,
    controllers: [...controllers.values()].map((c) => {
      need('controller', c, ['name', 'nameEn', 'cvr', 'address', 'phone', 'email', 'dpo']);
      const dpo = c.dpo as Plain;
      return {
        id: c.id as string, name: c.name as string, nameEn: c.nameEn as string, cvr: c.cvr as string, address: c.address as PostalAddress,
        phone: c.phone as string, email: c.email as string,
        dpo: {
          appointedBy: dpo.appointedBy as string, email: dpo.email as string, postal: dpo.postal as PostalAddress[],
          ...(dpo.digitalPost === undefined ? {} : { digitalPost: dpo.digitalPost as string }), emailCaution: dpo.emailCaution as string, sources: withSources(dpo),
        },
        sources: withSources(c),
      };
    }),
    complaintAuthorities: [...authorities.values()].map((a) => ({
      id: a.id as string, name: a.name as string, nameEn: a.nameEn as string, website: a.website as string, sources: withSources(a),
    })),
    notices: versions.map((v) => ({
      id: v.notice, title: v.title.en, version: v.version, language: v.language, controllerId: v.controller.id,
      complaintAuthorityId: v.complaintAuthority.id, activityIds: v.activities.map((a) => a.id),
      thirdCountryPolicy: v.thirdCountryPolicy.en, rightsCaveat: v.rightsCaveat.en,
      automatedDecisions: {
        status: v.automatedDecisions.status, ...(v.automatedDecisions.text === undefined ? {} : { text: v.automatedDecisions.text.en }),
        ...(v.automatedDecisions.sources === undefined ? {} : { sources: v.automatedDecisions.sources }),
      },
      textFile: v.textFile, remarks: v.remarks, sources: v.sources,
    })),
    legalBases: [...bases.values()].map((b) => {
      need('legal basis', b, ['title', 'reference', 'declarable']);
      return { id: b.id as LegalBasis, title: en(b.title), reference: en(b.reference), declarable: b.declarable as boolean, sources: (b.sources ?? []) as SourceRef[] };
    }),
    purposes: versions.flatMap((v) => v.purposes.map((p) => ({ id: p.id, noticeId: v.notice, description: p.text.en, sources: p.sources }))),
    dataCategories: [...categories.values()].map((c) => {
      need('data category', c, ['name', 'text', 'special', 'confidential']);
      return {
        id: c.id as string, name: en(c.name), noticeIds: categoryNotices.get(c.id as string) ?? [], description: en(c.text),
        special: c.special as boolean, confidential: c.confidential as boolean,
        ...opt('requirement', c.requirement), ...opt('requiredLegalBasis', c.requiredLegalBasis), ...opt('anonymised', c.anonymised),
        sources: withSources(c),
      } as DataCategory;
    }),
    recipients: [...recipients.values()].map((r) => {
      need('recipient', r, ['name', 'role', 'isCategory', 'text']);
      return {
        id: r.id as string, name: en(r.name), role: r.role as RecipientRole, ...opt('roleNote', r.roleNote === undefined ? undefined : en(r.roleNote)), ...opt('cvr', r.cvr),
        isCategory: r.isCategory as boolean, description: en(r.text), sources: withSources(r),
      };
    }),
    retentionRules: versions.flatMap((v) => v.retentionRules.map(({ text, sources, condition, ...r }) => ({
      id: r.id, noticeId: v.notice, activityIds: r.activityIds, categoryIds: r.categoryIds, period: r.period,
      ...(condition === undefined ? {} : { condition: condition.en }), startsAt: r.startsAt.en, description: text.en, sources,
    }))),
    thirdCountryRules: versions.flatMap((v) => v.thirdCountryRules.map((t) => ({
      id: t.id, noticeId: v.notice, activityIds: t.activityIds, countries: t.countries, safeguard: t.safeguard,
      ...(t.safeguardText === undefined ? {} : { safeguardText: t.safeguardText.en }),
      ...(t.recipientIds === undefined ? {} : { recipientIds: t.recipientIds }), condition: t.condition.en, sources: t.sources,
    }))),
    collectionSources: [...collection.values()].map((s) => {
      need('collection source', s, ['name', 'kind', 'text']);
      return {
        id: s.id as string, name: en(s.name), kind: s.kind as CollectionSourceKind, activityIds: s.activityIds as string[],
        categoryIds: s.categoryIds as string[], description: en(s.text), sources: withSources(s),
      };
    }),
    rights: versions.flatMap((v) => v.rights.map((r) => ({
      id: r.id, noticeId: v.notice, right: r.right, status: r.status, ...(r.reason === undefined ? {} : { reason: r.reason.en }),
      activityIds: r.activityIds, channels: r.channels.map(en), sources: r.sources,
    }))),
    activities: versions.flatMap((v) => v.activities.map((a) => ({
      id: a.id, noticeId: v.notice, name: a.name.en, description: a.text.en, dataSubjects: a.dataSubjects.map(en), purposeIds: a.purposeIds,
      legalBases: a.legalBases, categoryIds: a.categoryIds, retentionRuleIds: a.retentionRuleIds, thirdCountryRuleIds: a.thirdCountryRuleIds,
      collectionSourceIds: a.collectionSourceIds,
      flows: a.flows.map((f) => ({
        id: f.id, recipientId: f.recipientId, roles: f.roles, purposeIds: f.purposeIds, legalBases: f.legalBases, categoryIds: f.categoryIds,
        categoriesBasis: f.categoriesBasis, consentScopes: f.consentScopes, retentionRuleIds: f.retentionRuleIds, description: f.text.en, sources: f.sources,
      })),
      sources: a.sources,
    }))),
  };
}
