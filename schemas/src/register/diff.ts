/**
 * What changed between two register directories, notice by notice and version by version, in words
 * (for a DPO) and as data (for tools). Pure: parsed register files in, a list of changes out; the
 * reading of the directories is the caller's (`readRegisterDir`, the `sporbar-register diff` command).
 *
 * Versions are paired by file (`mitid/1.6.yaml` in both directories). A version only the new directory
 * has is compared with its predecessor: the old directory's latest version of that notice that took
 * effect before it (a new notice, with none, is compared with an empty one: everything in it is new).
 * A version only the old directory has is reported as removed. Each version is compared as the
 * register it makes on its own with the shared file (`composeRegister(shared, [version])`), so a change
 * in shared.yaml (a recipient's name, a category's flags) shows in every notice that names the item;
 * the definitions of the legal bases, which every notice shares, are compared once, under `shared.yaml`.
 * Quotes (`sources`) and Danish texts are not compared.
 */
import { describeRetention } from './retention.ts';
import { composeRegister } from './register-files.ts';
import type { NoticeVersion, RegisterFiles } from './load-register.ts';
import type {
  Controller,
  ComplaintAuthority,
  DataCategory,
  Flow,
  ProcessingActivity,
  ProcessingRegister,
  RegisterRecipient,
  RetentionRule,
  ThirdCountryRule,
} from './types.ts';

export type RegisterChangeKind =
  | 'version-added'
  | 'version-removed'
  | 'effective-changed'
  | 'notice-changed'
  | 'controller-changed'
  | 'complaint-authority-changed'
  | 'recipient-added'
  | 'recipient-removed'
  | 'recipient-renamed'
  | 'recipient-role-changed'
  | 'recipient-changed'
  | 'purpose-added'
  | 'purpose-removed'
  | 'purpose-changed'
  | 'category-added'
  | 'category-removed'
  | 'category-changed'
  | 'activity-added'
  | 'activity-removed'
  | 'activity-changed'
  | 'flow-added'
  | 'flow-removed'
  | 'flow-recipient-changed'
  | 'flow-roles-changed'
  | 'flow-purposes-changed'
  | 'flow-categories-changed'
  | 'flow-legal-bases-changed'
  | 'flow-consent-changed'
  | 'flow-retention-changed'
  | 'retention-added'
  | 'retention-removed'
  | 'retention-changed'
  | 'transfer-added'
  | 'transfer-removed'
  | 'transfer-changed'
  | 'right-added'
  | 'right-removed'
  | 'right-changed'
  | 'legal-basis-added'
  | 'legal-basis-removed'
  | 'legal-basis-changed';

/** One difference, in words (`text`) and as data. */
export interface RegisterChange {
  /** The notice id; null for the shared file's legal-basis definitions. */
  readonly notice: string | null;
  /** The version of the new side (of the old side when removed); null when the notice states none. */
  readonly version: string | null;
  /** The file of the new side (of the old side when removed), relative to the register directory. */
  readonly file: string;
  readonly kind: RegisterChangeKind;
  /** The activity the change is in (flows, activity changes). */
  readonly activity?: string;
  readonly flow?: string;
  /** The item changed: a recipient, purpose, category, retention rule, third-country rule, right, legal basis id. */
  readonly id?: string;
  /** Ids (categories, purposes, legal bases, roles, consent scopes, …) added to or removed from a list. */
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
  /** Field → [old, new] for changed values. */
  readonly fields?: Readonly<Record<string, readonly [unknown, unknown]>>;
  /** One sentence in plain English naming the notice, version, activity and ids. */
  readonly text: string;
}

/** One version compared: which file of the old directory with which of the new. */
export interface VersionComparison {
  readonly notice: string;
  readonly old: string | null;
  readonly new: string | null;
  readonly label: string;
  readonly changes: number;
}

export interface RegisterDiff {
  readonly same: boolean;
  readonly comparisons: readonly VersionComparison[];
  readonly changes: readonly RegisterChange[];
}

// ---------------------------------------------------------------------------------------------------

const q = (s: string): string => `'${s}'`;
const list = (xs: readonly string[]): string => xs.join(', ');
const setDiff = (a: readonly string[], b: readonly string[]): { added: string[]; removed: string[] } => ({
  added: b.filter((x) => !a.includes(x)),
  removed: a.filter((x) => !b.includes(x)),
});
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const byId = <T extends { readonly id: string }>(xs: readonly T[]): Map<string, T> => new Map(xs.map((x) => [x.id, x]));

/** 'MitID' from 'MitID intro', 'NemKonto' from 'NemKonto: recipients' (as the source references name the notice); else the notice id. */
function noticeName(reg: ProcessingRegister, noticeId: string): string {
  const source = reg.notices.find((n) => n.id === noticeId)?.sources[0]?.source;
  const m = source === undefined ? null : /^([^:\s]+)/.exec(source);
  return m?.[1]?.trim() || noticeId;
}

const versionLabel = (name: string, v: NoticeVersion): string => `${name} ${v.file.version ?? '(unnumbered)'}`;
const period = (v: NoticeVersion): string => `from ${v.file.effective.from} ${v.file.effective.to === undefined ? 'until further notice' : `to ${v.file.effective.to}`}`;

const formatAddress = (a: unknown): string => {
  if (typeof a !== 'object' || a === null) return String(a);
  const x = a as Record<string, unknown>;
  return [x.recipient, x.attention, x.street, `${String(x.postcode ?? '')} ${String(x.city ?? '')}`.trim()].filter((p) => p !== undefined && p !== '').join(', ');
};
const show = (v: unknown): string => {
  if (v === undefined || v === null) return '(none)';
  if (typeof v === 'string') return q(v);
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => (typeof x === 'object' ? formatAddress(x) : String(x))).join('; ');
  if (typeof v === 'object' && 'street' in (v as object)) return formatAddress(v);
  if (typeof v === 'object' && 'kind' in (v as object)) return describeRetention(v as RetentionRule['period']);
  return JSON.stringify(v);
};
const fieldSentence = (fields: Record<string, readonly [unknown, unknown]>): string =>
  Object.entries(fields).map(([f, [a, b]]) => `${f} ${show(a)} → ${show(b)}`).join('; ');

/** Field-by-field comparison of the named fields; only those that differ. */
function changedFields<T extends object>(a: T, b: T, fields: readonly string[]): Record<string, readonly [unknown, unknown]> {
  const out: Record<string, readonly [unknown, unknown]> = {};
  for (const f of fields) {
    const x = (a as Record<string, unknown>)[f];
    const y = (b as Record<string, unknown>)[f];
    if (!same(x, y)) out[f] = [x, y];
  }
  return out;
}

/** The register one notice version makes with the shared file (not validated: the diff reports what is written). */
const sliceOf = (files: RegisterFiles, v: NoticeVersion | null): ProcessingRegister => composeRegister(files.shared, v === null ? [] : [v.file]);

interface Side {
  readonly reg: ProcessingRegister;
  readonly version: NoticeVersion | null;
}

/** Compares one notice version with another (or with nothing). Pure. */
function compareVersions(noticeId: string, oldSide: Side, newSide: Side & { version: NoticeVersion }): RegisterChange[] {
  const o = oldSide.reg;
  const n = newSide.reg;
  const nv = newSide.version;
  const name = noticeName(n, noticeId) === noticeId ? noticeName(o, noticeId) : noticeName(n, noticeId);
  const label = versionLabel(name, nv);
  const out: RegisterChange[] = [];
  const base = { notice: noticeId, version: nv.file.version, file: nv.path };
  const add = (c: Omit<RegisterChange, 'notice' | 'version' | 'file' | 'text'>, sentence: string): void => {
    out.push({ ...base, ...c, text: `${label}: ${sentence}` });
  };

  const recipientName = (id: string): string => {
    const r = n.recipients.find((x) => x.id === id) ?? o.recipients.find((x) => x.id === id);
    return r === undefined ? q(id) : `${q(r.name)} (${id})`;
  };
  const categoryNames = (ids: readonly string[]): string =>
    list(ids.map((id) => n.dataCategories.find((c) => c.id === id)?.name ?? o.dataCategories.find((c) => c.id === id)?.name ?? id));
  const activityName = (a: ProcessingActivity): string => `${q(a.name)} (${a.id})`;

  // The version itself.
  const ov = oldSide.version;
  if (ov === null) {
    add({ kind: 'version-added', fields: { effective: [null, nv.file.effective] } }, `new notice (${nv.path}), in force ${period(nv)}; everything in it is new`);
  } else if (ov.path !== nv.path) {
    add({ kind: 'version-added', fields: { effective: [ov.file.effective, nv.file.effective] } }, `new version (${nv.path}), in force ${period(nv)}; compared with ${versionLabel(name, ov)} (${ov.path}), in force ${period(ov)}`);
  } else if (!same(ov.file.effective, nv.file.effective)) {
    add({ kind: 'effective-changed', fields: { effective: [ov.file.effective, nv.file.effective] } }, `now in force ${period(nv)} (was ${period(ov)})`);
  }
  if (ov !== null) {
    const fields = changedFields(ov.file, nv.file, ['version', 'textFile']);
    if (!same(ov.file.title.en, nv.file.title.en)) fields.title = [ov.file.title.en, nv.file.title.en];
    if (!same(ov.file.thirdCountryPolicy.en, nv.file.thirdCountryPolicy.en)) fields.thirdCountryPolicy = [ov.file.thirdCountryPolicy.en, nv.file.thirdCountryPolicy.en];
    if (ov.path !== nv.path) delete fields.version;
    if (Object.keys(fields).length > 0) add({ kind: 'notice-changed', fields }, `notice changed: ${fieldSentence(fields)}`);
  }

  // Controller and complaint authority.
  const oc: Controller | undefined = o.controllers[0];
  const nc: Controller | undefined = n.controllers[0];
  if (oc !== undefined && nc !== undefined) {
    const fields = changedFields(oc, nc, ['id', 'name', 'nameEn', 'cvr', 'address', 'phone', 'email']);
    for (const [k, [a, b]] of Object.entries(changedFields(oc.dpo, nc.dpo, ['appointedBy', 'email', 'postal', 'digitalPost']))) fields[`DPO ${k}`] = [a, b];
    if (Object.keys(fields).length > 0) add({ kind: 'controller-changed', id: nc.id, fields }, `controller ${q(nc.nameEn)} (${nc.id}) changed: ${fieldSentence(fields)}`);
  }
  const oa: ComplaintAuthority | undefined = o.complaintAuthorities[0];
  const na: ComplaintAuthority | undefined = n.complaintAuthorities[0];
  if (oa !== undefined && na !== undefined) {
    const fields = changedFields(oa, na, ['id', 'name', 'nameEn', 'website']);
    if (Object.keys(fields).length > 0) add({ kind: 'complaint-authority-changed', id: na.id, fields }, `complaint authority ${q(na.nameEn)} changed: ${fieldSentence(fields)}`);
  }

  // Recipients the notice names.
  const oR = byId(o.recipients);
  const nR = byId(n.recipients);
  for (const r of n.recipients) {
    const before: RegisterRecipient | undefined = oR.get(r.id);
    if (before === undefined) {
      add({ kind: 'recipient-added', id: r.id }, `recipient ${q(r.name)} (${r.id}, ${r.role}${r.isCategory ? ', a category of recipients' : ''}) added: ${r.description}`);
      continue;
    }
    if (before.name !== r.name) add({ kind: 'recipient-renamed', id: r.id, fields: { name: [before.name, r.name] } }, `recipient ${r.id} renamed: ${q(before.name)} → ${q(r.name)}`);
    if (before.role !== r.role) add({ kind: 'recipient-role-changed', id: r.id, fields: { role: [before.role, r.role] } }, `recipient ${q(r.name)} (${r.id}) changed role: ${before.role} → ${r.role}`);
    const fields = changedFields(before, r, ['cvr', 'isCategory', 'roleNote', 'description']);
    if (Object.keys(fields).length > 0) add({ kind: 'recipient-changed', id: r.id, fields }, `recipient ${q(r.name)} (${r.id}) changed: ${fieldSentence(fields)}`);
  }
  for (const r of o.recipients) {
    if (!nR.has(r.id)) add({ kind: 'recipient-removed', id: r.id }, `recipient ${q(r.name)} (${r.id}) is no longer named in the notice`);
  }

  // Purposes.
  const oP = byId(o.purposes);
  const nP = byId(n.purposes);
  for (const p of n.purposes) {
    const before = oP.get(p.id);
    if (before === undefined) add({ kind: 'purpose-added', id: p.id }, `purpose ${p.id} added: ${q(p.description)}`);
    else if (before.description !== p.description) add({ kind: 'purpose-changed', id: p.id, fields: { description: [before.description, p.description] } }, `purpose ${p.id} now reads ${q(p.description)} (was ${q(before.description)})`);
  }
  for (const p of o.purposes) if (!nP.has(p.id)) add({ kind: 'purpose-removed', id: p.id }, `purpose ${p.id} removed (was ${q(p.description)})`);

  // Data categories the notice names.
  const oD = byId(o.dataCategories);
  const nD = byId(n.dataCategories);
  for (const c of n.dataCategories) {
    const before: DataCategory | undefined = oD.get(c.id);
    if (before === undefined) {
      add({ kind: 'category-added', id: c.id }, `data category ${q(c.name)} (${c.id}) added${c.special ? ' (special: GDPR Art. 9)' : ''}${c.confidential ? ' (confidential)' : ''}: ${c.description}`);
      continue;
    }
    const fields = changedFields(before, c, ['name', 'description', 'special', 'confidential', 'requirement', 'requiredLegalBasis', 'anonymised']);
    if (Object.keys(fields).length > 0) add({ kind: 'category-changed', id: c.id, fields }, `data category ${q(c.name)} (${c.id}) changed: ${fieldSentence(fields)}`);
  }
  for (const c of o.dataCategories) if (!nD.has(c.id)) add({ kind: 'category-removed', id: c.id }, `data category ${q(c.name)} (${c.id}) is no longer named in the notice`);

  // Activities and their flows.
  const oA = byId(o.activities);
  const nA = byId(n.activities);
  const flowAdded = (a: ProcessingActivity, f: Flow): void =>
    add(
      { kind: 'flow-added', activity: a.id, flow: f.id, id: f.recipientId, added: [...f.categoryIds] },
      `recipient ${recipientName(f.recipientId)} receives, in activity ${activityName(a)}: ${categoryNames(f.categoryIds) || 'no data category named'} (flow ${f.id} → ${f.recipientId} added; as ${f.roles.join(' or ')}; purposes ${list(f.purposeIds)}; legal bases ${list(f.legalBases)}${f.consentScopes.length > 0 ? `; on consent ${list(f.consentScopes)}` : ''})`,
    );
  for (const a of n.activities) {
    const before = oA.get(a.id);
    if (before === undefined) {
      add({ kind: 'activity-added', activity: a.id }, `activity ${activityName(a)} added: ${a.description} (purposes ${list(a.purposeIds)}; legal bases ${list(a.legalBases)})`);
      for (const f of a.flows) flowAdded(a, f);
      continue;
    }
    const fields = changedFields(before, a, ['name', 'description', 'dataSubjects']);
    const purposes = setDiff(before.purposeIds, a.purposeIds);
    const bases = setDiff(before.legalBases, a.legalBases);
    const categories = setDiff(before.categoryIds, a.categoryIds);
    const transfers = setDiff(before.thirdCountryRuleIds, a.thirdCountryRuleIds);
    const retention = setDiff(before.retentionRuleIds, a.retentionRuleIds);
    const parts: string[] = [];
    if (Object.keys(fields).length > 0) parts.push(fieldSentence(fields));
    const listParts = (what: string, d: { added: string[]; removed: string[] }, names: (ids: readonly string[]) => string = list): void => {
      if (d.added.length > 0) parts.push(`${what} added: ${names(d.added)}`);
      if (d.removed.length > 0) parts.push(`${what} removed: ${names(d.removed)}`);
    };
    listParts('purposes', purposes);
    listParts('legal bases', bases);
    listParts('data categories', categories, categoryNames);
    listParts('third-country rules', transfers);
    listParts('retention rules', retention);
    if (parts.length > 0) {
      const added = [...purposes.added, ...bases.added, ...categories.added, ...transfers.added, ...retention.added];
      const removed = [...purposes.removed, ...bases.removed, ...categories.removed, ...transfers.removed, ...retention.removed];
      add({ kind: 'activity-changed', activity: a.id, ...(added.length > 0 ? { added } : {}), ...(removed.length > 0 ? { removed } : {}), ...(Object.keys(fields).length > 0 ? { fields } : {}) }, `activity ${activityName(a)} changed: ${parts.join('; ')}`);
    }

    const oF = byId(before.flows);
    const nF = byId(a.flows);
    for (const f of a.flows) {
      const bf = oF.get(f.id);
      if (bf === undefined) {
        flowAdded(a, f);
        continue;
      }
      const where = `in activity ${activityName(a)} (flow ${f.id})`;
      const common = { activity: a.id, flow: f.id };
      if (bf.recipientId !== f.recipientId) {
        add({ ...common, kind: 'flow-recipient-changed', id: f.recipientId, fields: { recipientId: [bf.recipientId, f.recipientId] } }, `flow ${f.id} in activity ${activityName(a)} now goes to ${recipientName(f.recipientId)} instead of ${recipientName(bf.recipientId)}`);
      }
      const who = recipientName(f.recipientId);
      const cats = setDiff(bf.categoryIds, f.categoryIds);
      if (cats.added.length + cats.removed.length > 0) {
        const s = [cats.added.length > 0 ? `now also receives: ${categoryNames(cats.added)}` : '', cats.removed.length > 0 ? `no longer receives: ${categoryNames(cats.removed)}` : ''].filter(Boolean).join('; ');
        add({ ...common, kind: 'flow-categories-changed', id: f.recipientId, added: cats.added, removed: cats.removed }, `recipient ${who} ${where} ${s}`);
      }
      const flowList = (kind: RegisterChangeKind, what: string, a0: readonly string[], b0: readonly string[]): void => {
        const d = setDiff(a0, b0);
        if (d.added.length + d.removed.length === 0) return;
        const s = [d.added.length > 0 ? `${what} added: ${list(d.added)}` : '', d.removed.length > 0 ? `${what} removed: ${list(d.removed)}` : ''].filter(Boolean).join('; ');
        add({ ...common, kind, id: f.recipientId, added: d.added, removed: d.removed }, `recipient ${who} ${where}: ${s}`);
      };
      flowList('flow-roles-changed', 'roles', bf.roles, f.roles);
      flowList('flow-purposes-changed', 'purposes', bf.purposeIds, f.purposeIds);
      flowList('flow-legal-bases-changed', 'legal bases', bf.legalBases, f.legalBases);
      if (!same(bf.consentScopes, f.consentScopes)) {
        const d = setDiff(bf.consentScopes, f.consentScopes);
        const s = f.consentScopes.length === 0 ? 'no longer rests on consent' : bf.consentScopes.length === 0 ? `now rests on consent (${list(f.consentScopes)})` : `consent scopes added: ${list(d.added) || '(none)'}; removed: ${list(d.removed) || '(none)'}`;
        add({ ...common, kind: 'flow-consent-changed', id: f.recipientId, added: d.added, removed: d.removed }, `recipient ${who} ${where}: ${s}`);
      }
      flowList('flow-retention-changed', 'retention rules', bf.retentionRuleIds, f.retentionRuleIds);
    }
    for (const f of before.flows) {
      if (!nF.has(f.id)) {
        add({ kind: 'flow-removed', activity: a.id, flow: f.id, id: f.recipientId, removed: [...f.categoryIds] }, `recipient ${recipientName(f.recipientId)} no longer receives data in activity ${activityName(a)} (flow ${f.id} → ${f.recipientId} removed; it received: ${categoryNames(f.categoryIds)})`);
      }
    }
  }
  for (const a of o.activities) {
    if (!nA.has(a.id)) {
      add({ kind: 'activity-removed', activity: a.id, removed: a.flows.map((f) => f.id) }, `activity ${activityName(a)} removed: no recipient receives data in it any more (flows ${list(a.flows.map((f) => `${f.id} → ${f.recipientId}`)) || 'none'})`);
    }
  }

  // Retention rules.
  const oT = byId(o.retentionRules);
  const nT = byId(n.retentionRules);
  const ruleScope = (r: RetentionRule): string => `for ${categoryNames(r.categoryIds)} in ${list(r.activityIds)}`;
  for (const r of n.retentionRules) {
    const before = oT.get(r.id);
    if (before === undefined) {
      add({ kind: 'retention-added', id: r.id }, `retention rule ${r.id} added: ${describeRetention(r)} (from ${r.startsAt}) ${ruleScope(r)}${r.condition ? `, when ${r.condition}` : ''}`);
      continue;
    }
    const fields = changedFields(before, r, ['period', 'startsAt', 'condition', 'description', 'categoryIds', 'activityIds']);
    if (Object.keys(fields).length > 0) add({ kind: 'retention-changed', id: r.id, fields }, `retention rule ${r.id} ${ruleScope(r)} changed: ${fieldSentence(fields)}`);
  }
  for (const r of o.retentionRules) if (!nT.has(r.id)) add({ kind: 'retention-removed', id: r.id }, `retention rule ${r.id} removed (was: ${describeRetention(r)} ${ruleScope(r)})`);

  // Third-country transfers.
  const oX = byId(o.thirdCountryRules);
  const nX = byId(n.thirdCountryRules);
  const countries = (t: ThirdCountryRule): string => (t.countries === 'ANY' ? 'any country outside the EU/EEA' : list(t.countries));
  for (const t of n.thirdCountryRules) {
    const before = oX.get(t.id);
    if (before === undefined) {
      add({ kind: 'transfer-added', id: t.id }, `third-country transfer ${t.id} added: to ${countries(t)} under ${t.safeguard}${t.recipientIds ? ` (recipients ${list(t.recipientIds)})` : ''} in ${list(t.activityIds)}, when ${t.condition}`);
      continue;
    }
    const fields = changedFields(before, t, ['countries', 'safeguard', 'recipientIds', 'activityIds', 'condition']);
    if (Object.keys(fields).length > 0) add({ kind: 'transfer-changed', id: t.id, fields }, `third-country transfer ${t.id} changed: ${fieldSentence(fields)}`);
  }
  for (const t of o.thirdCountryRules) if (!nX.has(t.id)) add({ kind: 'transfer-removed', id: t.id }, `third-country transfer ${t.id} removed (was: to ${countries(t)} under ${t.safeguard})`);

  // Rights.
  const oG = byId(o.rights);
  const nG = byId(n.rights);
  for (const r of n.rights) {
    const before = oG.get(r.id);
    if (before === undefined) {
      add({ kind: 'right-added', id: r.id }, `right ${r.id} (${r.right}) added: ${r.status}`);
      continue;
    }
    const fields = changedFields(before, r, ['right', 'status', 'reason', 'activityIds', 'channels']);
    if (Object.keys(fields).length > 0) add({ kind: 'right-changed', id: r.id, fields }, `right ${r.id} (${r.right}) changed: ${fieldSentence(fields)}`);
  }
  for (const r of o.rights) if (!nG.has(r.id)) add({ kind: 'right-removed', id: r.id }, `right ${r.id} (${r.right}) removed`);

  return out;
}

/** The legal bases every notice shares (shared.yaml): compared once. */
function compareLegalBases(oldFiles: RegisterFiles, newFiles: RegisterFiles): RegisterChange[] {
  const out: RegisterChange[] = [];
  const base = { notice: null, version: null, file: 'shared.yaml' };
  const o = byId(oldFiles.shared.legalBases);
  const n = byId(newFiles.shared.legalBases);
  for (const b of newFiles.shared.legalBases) {
    const before = o.get(b.id);
    if (before === undefined) {
      out.push({ ...base, kind: 'legal-basis-added', id: b.id, text: `shared.yaml: legal basis ${b.id} added: ${q(b.title.en)} (${b.reference})` });
      continue;
    }
    const fields = changedFields({ title: before.title.en, reference: before.reference, declarable: before.declarable }, { title: b.title.en, reference: b.reference, declarable: b.declarable }, ['title', 'reference', 'declarable']);
    if (Object.keys(fields).length > 0) out.push({ ...base, kind: 'legal-basis-changed', id: b.id, fields, text: `shared.yaml: legal basis ${b.id} changed: ${fieldSentence(fields)}` });
  }
  for (const b of oldFiles.shared.legalBases) {
    if (!n.has(b.id)) out.push({ ...base, kind: 'legal-basis-removed', id: b.id, text: `shared.yaml: legal basis ${b.id} removed (was ${q(b.title.en)})` });
  }
  return out;
}

/**
 * Every difference between two parsed register directories, notice by notice, version by version
 * (in the order of the new directory's files, removed versions last). Pure.
 */
export function diffRegisters(oldFiles: RegisterFiles, newFiles: RegisterFiles): RegisterDiff {
  const changes: RegisterChange[] = [...compareLegalBases(oldFiles, newFiles)];
  const comparisons: VersionComparison[] = [];
  const oldByPath = new Map(oldFiles.versions.map((v) => [v.path, v]));
  const newPaths = new Set(newFiles.versions.map((v) => v.path));
  for (const nv of newFiles.versions) {
    const notice = nv.file.notice;
    let ov = oldByPath.get(nv.path) ?? null;
    if (ov === null) {
      // The predecessor: the old directory's latest version of the notice that took effect before this one.
      const earlier = oldFiles.versions.filter((v) => v.file.notice === notice && v.from < nv.from);
      ov = earlier.at(-1) ?? null;
    }
    const found = compareVersions(notice, { reg: sliceOf(oldFiles, ov), version: ov }, { reg: sliceOf(newFiles, nv), version: nv });
    changes.push(...found);
    const name = noticeName(sliceOf(newFiles, nv), notice);
    comparisons.push({ notice, old: ov?.path ?? null, new: nv.path, label: versionLabel(name, nv), changes: found.length });
  }
  for (const ov of oldFiles.versions) {
    if (newPaths.has(ov.path)) continue;
    const name = noticeName(sliceOf(oldFiles, ov), ov.file.notice);
    const label = versionLabel(name, ov);
    changes.push({ notice: ov.file.notice, version: ov.file.version, file: ov.path, kind: 'version-removed', fields: { effective: [ov.file.effective, null] }, text: `${label}: version removed (${ov.path}, was in force ${period(ov)})` });
    comparisons.push({ notice: ov.file.notice, old: ov.path, new: null, label, changes: 1 });
  }
  return { same: changes.length === 0, comparisons, changes };
}

/** The diff for people: one heading per version compared, one sentence per change. Pure. */
export function formatRegisterDiff(d: RegisterDiff, names: { old: string; new: string } = { old: 'old', new: 'new' }): string[] {
  if (d.same) return [`no differences between ${names.old} and ${names.new}`];
  const lines: string[] = [];
  const shared = d.changes.filter((c) => c.notice === null);
  if (shared.length > 0) {
    lines.push('shared.yaml (legal bases):');
    for (const c of shared) lines.push(`  - ${c.text}`);
  }
  for (const cmp of d.comparisons) {
    const cs = d.changes.filter((c) => c.notice === cmp.notice && c.file === (cmp.new ?? cmp.old));
    if (cs.length === 0) continue;
    lines.push(`${cmp.label} (${cmp.old ?? 'nothing'} → ${cmp.new ?? 'removed'}):`);
    for (const c of cs) lines.push(`  - ${c.text}`);
  }
  const versions = d.comparisons.filter((c) => c.changes > 0).length;
  lines.push(`${d.changes.length} difference(s) in ${versions} notice version(s)${shared.length > 0 ? ' and shared.yaml' : ''}`);
  return lines;
}
