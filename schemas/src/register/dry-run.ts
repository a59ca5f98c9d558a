/**
 * The dry run of a candidate register: which recorded disclosures it would classify differently from
 * the current register, before it is published. Pure: decoded disclosures in, a report out; reading
 * them from the event store is the caller's (`sporbar-audit register-dry-run`, @sporbar/auditor).
 *
 * Each disclosure is classified twice, each time against the register in force at its `occurredAt`
 * (`registerAt`: the version of each notice whose effective period contains the instant) — once of
 * the current register files, once of the candidate's — with the classifier the ingest uses
 * (`createClassifier`, the same facts: activity, recipient and role, purpose, legal bases, data
 * categories, transfer). A disclosure whose instant no notice version covers is classified against
 * an empty register (undeclared: UNKNOWN_ACTIVITY), as it would be by a register without it.
 *
 * What counts as a change: declared → undeclared, undeclared → declared, undeclared under both with
 * other reasons (compared by code and message), declared under both under another flow or other
 * retention rules.
 */
import { createClassifier, type Classification, type DisclosureFacts } from './classify.ts';
import { composeRegister } from './register-files.ts';
import { registerAt, versionsInForce, type RegisterFiles } from './load-register.ts';
import type { DisclosureRecorded } from '../generated/events.ts';
import type { ProcessingRegister, RecipientRole } from './types.ts';

/** A recorded disclosure: the decoded event and where the log holds it. */
export interface RecordedDisclosure {
  readonly eventId: string;
  readonly position: bigint;
  readonly event: DisclosureRecorded;
}

export type ReclassificationKind = 'now-undeclared' | 'now-declared' | 'reasons-changed' | 'flow-changed';
export const RECLASSIFICATION_KINDS: readonly ReclassificationKind[] = ['now-undeclared', 'now-declared', 'reasons-changed', 'flow-changed'];

/** A classification as the report shows it: the flow and retention rules, or the reasons (code and message). */
export type ClassificationSummary =
  | { readonly status: 'declared'; readonly flowId: string; readonly retentionRuleIds: readonly string[] }
  | { readonly status: 'undeclared'; readonly reasons: readonly { readonly code: string; readonly message: string }[] };

export interface Reclassification {
  readonly eventId: string;
  /** The global position, as a decimal string (JSON has no bigint). */
  readonly position: string;
  readonly occurredAt: string;
  readonly activity: string;
  readonly recipient: { readonly id: string; readonly role: RecipientRole };
  readonly purpose: string;
  readonly kind: ReclassificationKind;
  readonly current: ClassificationSummary;
  readonly candidate: ClassificationSummary;
  /** The notice version files in force at occurredAt in each register. */
  readonly currentVersions: readonly string[];
  readonly candidateVersions: readonly string[];
}

/** The disclosures of one activity and recipient (and role) that change the same way. */
export interface ReclassificationGroup {
  readonly activity: string;
  readonly recipient: string;
  readonly role: RecipientRole;
  readonly kind: ReclassificationKind;
  /** e.g. 'declared (flow nemkonto-register-kmd)' and 'undeclared (RECIPIENT_NOT_DECLARED)'. */
  readonly from: string;
  readonly to: string;
  /** One reason's message of the candidate's classification (or the flow), to say why in words. */
  readonly why: string;
  readonly count: number;
  readonly firstOccurredAt: string;
  readonly lastOccurredAt: string;
}

export interface DryRunReport {
  /** Recorded disclosures classified. */
  readonly disclosures: number;
  /** How many would be classified differently. */
  readonly changed: number;
  readonly byKind: Readonly<Record<ReclassificationKind, number>>;
  /** Per activity, recipient and change; most disclosures first. */
  readonly groups: readonly ReclassificationGroup[];
  /** The disclosures that change, in log order: at most `maxListed` of them. */
  readonly listed: readonly Reclassification[];
  /** More changed than are listed. */
  readonly truncated: boolean;
}

export const summariseClassification = (c: Classification): ClassificationSummary =>
  c.status === 'declared'
    ? { status: 'declared', flowId: c.flowId, retentionRuleIds: [...c.retentionRuleIds] }
    : { status: 'undeclared', reasons: c.reasons.map((r) => ({ code: r.code, message: r.message })) };

/** 'declared (flow x)', 'undeclared (RECIPIENT_NOT_DECLARED, PURPOSE_NOT_DECLARED)'. */
export const describeClassification = (c: ClassificationSummary): string =>
  c.status === 'declared'
    ? `declared (flow ${c.flowId}${c.retentionRuleIds.length > 0 ? `; retention ${c.retentionRuleIds.join(', ')}` : ''})`
    : `undeclared (${[...new Set(c.reasons.map((r) => r.code))].join(', ')})`;

/** How a classification changes, or null when it does not. Pure. */
export function reclassificationKind(current: ClassificationSummary, candidate: ClassificationSummary): ReclassificationKind | null {
  if (current.status === 'declared' && candidate.status === 'undeclared') return 'now-undeclared';
  if (current.status === 'undeclared' && candidate.status === 'declared') return 'now-declared';
  if (current.status === 'declared' && candidate.status === 'declared') {
    return current.flowId === candidate.flowId && JSON.stringify(current.retentionRuleIds) === JSON.stringify(candidate.retentionRuleIds) ? null : 'flow-changed';
  }
  const reasons = (c: ClassificationSummary): string => (c.status === 'undeclared' ? JSON.stringify(c.reasons.map((r) => `${r.code} ${r.message}`).sort()) : '');
  return reasons(current) === reasons(candidate) ? null : 'reasons-changed';
}

/** The facts the ingest classifies (services/ingest prepare-event.ts): no consent state, as recorded. */
export const disclosureFacts = (e: DisclosureRecorded): DisclosureFacts => ({
  activity: e.activity,
  recipient: e.recipient,
  purpose: e.purpose,
  legalBases: e.legalBases,
  dataCategories: e.dataCategories,
  transfer: e.transfer,
});

const emptyRegisters = new WeakMap<RegisterFiles, ProcessingRegister>();

/**
 * The register in force at an instant (`registerAt`), or, when no notice version is in force then, the
 * empty register (the shared definitions, no notice): every disclosure of that instant is undeclared. Pure.
 */
export function registerInForceAt(files: RegisterFiles, at: Date): ProcessingRegister {
  if (versionsInForce(files, at).length > 0) return registerAt(files, at);
  let empty = emptyRegisters.get(files);
  if (empty === undefined) {
    empty = composeRegister(files.shared, []);
    emptyRegisters.set(files, empty);
  }
  return empty;
}

/**
 * Composes the register in force at every instant a version of `files` begins or ends, so a candidate
 * that does not compose (files disagree, a dangling reference) fails before any disclosure is read;
 * throws SPB_ERR_REGISTER_INVALID (what `sporbar-register validate` reports in full). Pure.
 */
export function assertComposable(files: RegisterFiles): void {
  const instants = new Set<number>();
  for (const v of files.versions) {
    instants.add(v.from);
    if (Number.isFinite(v.to)) instants.add(v.to);
  }
  for (const t of instants) registerInForceAt(files, new Date(t));
}

export interface DryRun {
  /** Classifies one recorded disclosure under both registers; returns the change, if any. */
  add(d: RecordedDisclosure): Reclassification | null;
  report(): DryRunReport;
}

/**
 * A dry run of `candidate` against `current` over disclosures fed one by one (in log order). Keeps the
 * counts of every change and the first `maxListed` changed disclosures (memory: one group per
 * activity, recipient and change, plus the listed ones). Pure (no I/O; state in the returned object).
 */
export function createDryRun(current: RegisterFiles, candidate: RegisterFiles, options: { maxListed?: number } = {}): DryRun {
  const maxListed = options.maxListed ?? 100;
  const classifiers = new WeakMap<ProcessingRegister, (f: DisclosureFacts) => Classification>();
  const summaries = new WeakMap<Classification, ClassificationSummary>();
  const classify = (reg: ProcessingRegister, facts: DisclosureFacts): ClassificationSummary => {
    let c = classifiers.get(reg);
    if (c === undefined) {
      c = createClassifier(reg);
      classifiers.set(reg, c);
    }
    const answer = c(facts);
    let s = summaries.get(answer);
    if (s === undefined) {
      s = summariseClassification(answer);
      summaries.set(answer, s);
    }
    return s;
  };
  let disclosures = 0;
  const byKind: Record<ReclassificationKind, number> = { 'now-undeclared': 0, 'now-declared': 0, 'reasons-changed': 0, 'flow-changed': 0 };
  const groups = new Map<string, { -readonly [K in keyof ReclassificationGroup]: ReclassificationGroup[K] }>();
  const listed: Reclassification[] = [];
  let changed = 0;

  return {
    add(d) {
      disclosures++;
      const e = d.event;
      const at = new Date(Math.floor(e.occurredAt / 1000));
      const facts = disclosureFacts(e);
      const before = classify(registerInForceAt(current, at), facts);
      const after = classify(registerInForceAt(candidate, at), facts);
      const kind = reclassificationKind(before, after);
      if (kind === null) return null;
      changed++;
      byKind[kind]++;
      const occurredAt = at.toISOString();
      const from = describeClassification(before);
      const to = describeClassification(after);
      const key = JSON.stringify([e.activity, e.recipient.id, e.recipient.role, kind, from, to]);
      const g = groups.get(key);
      if (g === undefined) {
        const why = after.status === 'undeclared' ? (after.reasons[0]?.message ?? '') : `declared by flow ${after.flowId}`;
        groups.set(key, { activity: e.activity, recipient: e.recipient.id, role: e.recipient.role, kind, from, to, why, count: 1, firstOccurredAt: occurredAt, lastOccurredAt: occurredAt });
      } else {
        g.count++;
        if (occurredAt < g.firstOccurredAt) g.firstOccurredAt = occurredAt;
        if (occurredAt > g.lastOccurredAt) g.lastOccurredAt = occurredAt;
      }
      const change: Reclassification = {
        eventId: d.eventId,
        position: d.position.toString(),
        occurredAt,
        activity: e.activity,
        recipient: { id: e.recipient.id, role: e.recipient.role },
        purpose: e.purpose,
        kind,
        current: before,
        candidate: after,
        currentVersions: versionsInForce(current, at).map((v) => v.path),
        candidateVersions: versionsInForce(candidate, at).map((v) => v.path),
      };
      if (listed.length < maxListed) listed.push(change);
      return change;
    },
    report() {
      const sorted = [...groups.values()].sort((a, b) => b.count - a.count || (a.activity < b.activity ? -1 : a.activity > b.activity ? 1 : a.recipient < b.recipient ? -1 : a.recipient > b.recipient ? 1 : 0));
      return { disclosures, changed, byKind: { ...byKind }, groups: sorted.map((g) => ({ ...g })), listed: [...listed], truncated: changed > listed.length };
    },
  };
}

const KIND_WORDS: Record<ReclassificationKind, string> = {
  'now-undeclared': 'declared now, undeclared under the candidate',
  'now-declared': 'undeclared now, declared under the candidate',
  'reasons-changed': 'undeclared under both, for other reasons',
  'flow-changed': 'declared under both, by another flow or other retention rules',
};

/** The report for people: counts per kind, per activity and recipient, then the disclosures listed. Pure. */
export function formatDryRun(r: DryRunReport, names: { current: string; candidate: string }): string[] {
  const lines: string[] = [];
  lines.push(`${r.disclosures} recorded disclosure(s) classified under the current register (${names.current}) and under the candidate (${names.candidate}), each against the version in force when it occurred:`);
  if (r.changed === 0) {
    lines.push('none would be classified differently');
    return lines;
  }
  lines.push(`${r.changed} would be classified differently:`);
  for (const k of RECLASSIFICATION_KINDS) if (r.byKind[k] > 0) lines.push(`  ${r.byKind[k]} ${KIND_WORDS[k]}`);
  lines.push('per activity and recipient:');
  for (const g of r.groups) {
    const when = g.firstOccurredAt === g.lastOccurredAt ? `on ${g.firstOccurredAt}` : `between ${g.firstOccurredAt} and ${g.lastOccurredAt}`;
    lines.push(`  activity ${g.activity}, recipient ${g.recipient} (${g.role}): ${g.count} disclosure(s) ${when}: ${g.from} → ${g.to}${g.why ? `: ${g.why}` : ''}`);
  }
  lines.push(r.truncated ? `the first ${r.listed.length} of them:` : 'the disclosures:');
  for (const c of r.listed) {
    lines.push(`  position ${c.position}, event ${c.eventId}, occurred ${c.occurredAt}: ${c.activity} → ${c.recipient.id}, purpose ${c.purpose}: ${describeClassification(c.current)} → ${describeClassification(c.candidate)}`);
  }
  if (r.truncated) lines.push(`  … ${r.changed - r.listed.length} more (raise --max to list them)`);
  return lines;
}
