/**
 * Judging a disclosure by the notice version in force when it happened. Pure.
 *
 * A `RegisterSource` is either the register files (every version of every notice, with effective
 * periods and content hashes: the normal case) or one fixed `ProcessingRegister` (tests, tools that
 * know only one register; then no version is named). `registerTimeline` turns either into the same
 * two questions: which register was in force at an instant, and which notice version of it covers an
 * activity.
 */
import { registerAt, versionsInForce, type NoticeVersion, type RegisterFiles } from './load-register.ts';
import type { ProcessingRegister } from './types.ts';
import type { DisclosureRecorded, RegisterPublished } from '../generated/events.ts';
import { createClassifier, type Classification, type DisclosureFacts } from './classify.ts';
import { toMicros } from '../avro/logical-types.ts';
import { deterministicUuid } from '../deterministic-uuid.ts';

export type RegisterSource = ProcessingRegister | RegisterFiles;

/** The notice version a disclosure was judged by, as the ingest stores it in the event's metadata. */
export interface JudgedBy {
  readonly notice: string;
  /** The version the notice states; null when it states none (NemKonto). */
  readonly version: string | null;
  /** SHA-256 (hex) of the notice-version file: the key of its RegisterPublished event. */
  readonly sha256: string;
}

export interface RegisterTimeline {
  /** The register files, when the source has them (null: one fixed register). */
  readonly files: RegisterFiles | null;
  /** The register in force at the instant (a fixed register: always itself). */
  at(instant: Date): ProcessingRegister;
  /** The notice version in force at the instant whose notice declares the activity; null when none does (or the register is fixed). */
  judgedBy(activity: string, instant: Date): JudgedBy | null;
}

export const isRegisterFiles = (source: RegisterSource): source is RegisterFiles => 'versions' in source && 'shared' in source;

const timelines = new WeakMap<object, RegisterTimeline>();

/** One timeline per source (memoised: the classifiers and look-ups behind it are shared). */
export function registerTimeline(source: RegisterSource): RegisterTimeline {
  let t = timelines.get(source);
  if (t !== undefined) return t;
  if (isRegisterFiles(source)) {
    const files = source;
    t = {
      files,
      at: (instant) => registerAt(files, instant),
      judgedBy(activity, instant) {
        const reg = registerAt(files, instant);
        const noticeId = reg.activities.find((a) => a.id === activity)?.noticeId;
        const v: NoticeVersion | undefined = noticeId === undefined ? undefined : versionsInForce(files, instant).find((x) => x.file.notice === noticeId);
        return v === undefined ? null : { notice: v.file.notice, version: v.file.version, sha256: v.sha256 };
      },
    };
  } else {
    const reg = source;
    t = { files: null, at: () => reg, judgedBy: () => null };
  }
  timelines.set(source, t);
  return t;
}

/** The metadata keys a classification names its notice version with (absent: judged by no notice version). */
export const JUDGED_BY_METADATA = { notice: 'notice', version: 'noticeVersion', sha256: 'noticeSha256' } as const;

/** JudgedBy → event metadata (codes only). */
export function judgedByMetadata(j: JudgedBy | null): Record<string, string> {
  if (j === null) return {};
  return { notice: j.notice, ...(j.version === null ? {} : { noticeVersion: j.version }), noticeSha256: j.sha256 };
}

/** Event metadata → JudgedBy (null when the event names none: stored before versions were named, or no notice covered it). */
export function judgedByOf(metadata: Readonly<Record<string, string>>): JudgedBy | null {
  const notice = metadata['notice'];
  const sha256 = metadata['noticeSha256'];
  if (notice === undefined || sha256 === undefined) return null;
  return { notice, version: metadata['noticeVersion'] ?? null, sha256 };
}

// ---------------------------------------------------------------------------------------------------
// RegisterPublished: which notice versions were put into use, by content hash
// ---------------------------------------------------------------------------------------------------

/** The stream RegisterPublished events are appended to. */
export const REGISTER_STREAM = 'processing-register';

/** RegisterPublished's eventId: one per (notice-version file, shared file) content, so publishing twice stores it once. */
export const registerPublishedId = (contentSha256: string, sharedSha256: string): string => deterministicUuid('RegisterPublished', contentSha256, sharedSha256);

/** One RegisterPublished event per notice version of the files, in file order. Pure. */
export function registerPublishedEvents(files: RegisterFiles, publishedAt: Date): RegisterPublished[] {
  return files.versions.map((v) => ({
    eventId: registerPublishedId(v.sha256, files.sharedSha256),
    occurredAt: toMicros(publishedAt),
    notice: v.file.notice,
    version: v.file.version,
    path: v.path,
    effectiveFrom: v.from * 1000,
    effectiveTo: Number.isFinite(v.to) ? v.to * 1000 : null,
    controllerName: v.file.controller.name,
    controllerCvr: v.file.controller.cvr,
    contentSha256: v.sha256,
    sharedSha256: files.sharedSha256,
  }));
}

// ---------------------------------------------------------------------------------------------------
// A disclosure's stored classification (event metadata, codes only): the ingest writes it, the auditor's replay reproduces it
// ---------------------------------------------------------------------------------------------------

/** The facts of a disclosure the classification reads (a DisclosureRecorded as decoded). */
export type JudgedDisclosure = Pick<DisclosureRecorded, 'activity' | 'recipient' | 'purpose' | 'legalBases' | 'dataCategories' | 'transfer' | 'occurredAt'>;

/** Classification metadata of one classification: `classification`, and `flow` + `retention` or `reasons`. */
export function classificationMetadata(result: Classification): Record<string, string> {
  return result.status === 'declared'
    ? { classification: 'declared', flow: result.flowId, retention: result.retentionRuleIds.join(',') }
    : { classification: 'undeclared', reasons: result.reasons.map((r) => r.code).join(',') };
}

/** The metadata keys a classification consists of (what the auditor compares). */
export const CLASSIFICATION_METADATA_KEYS = ['classification', 'flow', 'retention', 'reasons', 'notice', 'noticeVersion', 'noticeSha256'] as const;

/**
 * The judge of a register source: a disclosure → its classification metadata by the register in force
 * at its occurredAt, with the notice version that judged it (`notice`, `noticeVersion`, `noticeSha256`).
 * Remembers answers per register (createClassifier) and hands out frozen, shared metadata objects. Pure.
 */
export function createDisclosureJudge(source: RegisterSource): (event: JudgedDisclosure) => Readonly<Record<string, string>> {
  const timeline = registerTimeline(source);
  const classifiers = new WeakMap<ProcessingRegister, (facts: DisclosureFacts) => Classification>();
  const answers = new WeakMap<Classification, Map<string, Readonly<Record<string, string>>>>();
  return (e) => {
    const at = new Date(Math.floor(e.occurredAt / 1000));
    const register = timeline.at(at);
    let classify = classifiers.get(register);
    if (classify === undefined) { classify = createClassifier(register); classifiers.set(register, classify); }
    const result = classify({ activity: e.activity, recipient: e.recipient, purpose: e.purpose, legalBases: e.legalBases, dataCategories: e.dataCategories, transfer: e.transfer });
    const judged = timeline.judgedBy(e.activity, at);
    const key = judged === null ? '' : judged.sha256;
    let byVersion = answers.get(result);
    if (byVersion === undefined) { byVersion = new Map(); answers.set(result, byVersion); }
    let m = byVersion.get(key);
    if (m === undefined) { m = Object.freeze({ ...classificationMetadata(result), ...judgedByMetadata(judged) }); byVersion.set(key, m); }
    return m;
  };
}
