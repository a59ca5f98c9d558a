/**
 * Referential integrity of the processing register. Pure: returns every issue found, in register order.
 */
import { SporbarError } from '@sporbar/common/errors';
import { parseIsoDuration } from './retention.ts';
import {
  CONSENT_SCOPES,
  DATA_SUBJECT_RIGHT_KINDS,
  LEGAL_BASES,
  RECIPIENT_ROLES,
  TRANSFER_SAFEGUARDS,
  type ProcessingRegister,
  type RegisterIssue,
  type SourceRef,
} from './types.ts';

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A section reference after a notice's prefix: '§5', '§4A', 'intro', 'recipients', 'data subject rights'. */
const SECTION = /^(?:§\d+[A-Z]?|[a-z][a-z ]*)$/;
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The source-reference prefix of each notice of the register ('MitID ', 'NemKonto: '), read off the
 * notice's own first source: the text up to the first ': ' or space. Data, not code: a notice of
 * another authority brings its own.
 */
export function sourcePrefixes(reg: ProcessingRegister): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of reg.notices) {
    const m = /^(.*?(?::\s|\s))/.exec(n.sources[0]?.source ?? '');
    if (m?.[1] !== undefined) out.set(n.id, m[1]);
  }
  return out;
}
const COUNTRY = /^[A-Z]{2}$/;

/** Every source reference in the register, with the path of the item that carries it. */
export function allSourceRefs(reg: ProcessingRegister): { path: string; ref: SourceRef }[] {
  const out: { path: string; ref: SourceRef }[] = [];
  const add = (path: string, refs: readonly SourceRef[]): void => refs.forEach((ref, i) => out.push({ path: `${path}.sources[${i}]`, ref }));
  reg.controllers.forEach((c, i) => { add(`controllers[${i}]`, c.sources); add(`controllers[${i}].dpo`, c.dpo.sources); });
  reg.complaintAuthorities.forEach((c, i) => add(`complaintAuthorities[${i}]`, c.sources));
  reg.notices.forEach((x, i) => add(`notices[${i}]`, x.sources));
  reg.legalBases.forEach((x, i) => add(`legalBases[${i}]`, x.sources));
  reg.purposes.forEach((x, i) => add(`purposes[${i}]`, x.sources));
  reg.dataCategories.forEach((x, i) => add(`dataCategories[${i}]`, x.sources));
  reg.recipients.forEach((x, i) => add(`recipients[${i}]`, x.sources));
  reg.retentionRules.forEach((x, i) => add(`retentionRules[${i}]`, x.sources));
  reg.thirdCountryRules.forEach((x, i) => add(`thirdCountryRules[${i}]`, x.sources));
  reg.collectionSources.forEach((x, i) => add(`collectionSources[${i}]`, x.sources));
  reg.rights.forEach((x, i) => add(`rights[${i}]`, x.sources));
  reg.activities.forEach((a, i) => {
    add(`activities[${i}]`, a.sources);
    a.flows.forEach((f, j) => add(`activities[${i}].flows[${j}]`, f.sources));
  });
  return out;
}

export function validateRegister(reg: ProcessingRegister): RegisterIssue[] {
  const issues: RegisterIssue[] = [];
  const issue = (code: RegisterIssue['code'], path: string, message: string): void => { issues.push({ code, path, message }); };

  const index = <T extends { id: string }>(items: readonly T[], path: string): Map<string, T> => {
    const map = new Map<string, T>();
    items.forEach((item, i) => {
      if (!KEBAB.test(item.id)) issue('INVALID_ID', `${path}[${i}].id`, `id "${item.id}" is not lowercase kebab-case`);
      if (map.has(item.id)) issue('DUPLICATE_ID', `${path}[${i}].id`, `duplicate ${path} id "${item.id}"`);
      else map.set(item.id, item);
    });
    return map;
  };
  const controllers = index(reg.controllers, 'controllers');
  const authorities = index(reg.complaintAuthorities, 'complaintAuthorities');
  const purposes = index(reg.purposes, 'purposes');
  const categories = index(reg.dataCategories, 'dataCategories');
  const recipients = index(reg.recipients, 'recipients');
  const rules = index(reg.retentionRules, 'retentionRules');
  const thirdCountry = index(reg.thirdCountryRules, 'thirdCountryRules');
  const collection = index(reg.collectionSources, 'collectionSources');
  const activities = index(reg.activities, 'activities');
  index(reg.rights, 'rights');
  const flowIds = new Map<string, string>();
  const knownNotices = new Set(reg.notices.map((n) => n.id));
  const sourcePattern = new RegExp(`^(?:${[...new Set(sourcePrefixes(reg).values())].map(escapeRegExp).join('|') || '(?!)'})(.*)$`);

  const ref = (map: Map<string, unknown>, kind: string, id: string, path: string): boolean => {
    if (map.has(id)) return true;
    issue('DANGLING_REFERENCE', path, `${kind} "${id}" is not defined in the register`);
    return false;
  };
  const refs = (map: Map<string, unknown>, kind: string, ids: readonly string[], path: string): void =>
    ids.forEach((id, i) => ref(map, kind, id, `${path}[${i}]`));
  const notice = (id: string, path: string): void => {
    if (!knownNotices.has(id)) issue('DANGLING_REFERENCE', path, `notice "${id}" is not defined`);
  };

  // Notices, controllers, legal bases.
  const noticeIds = new Set<string>();
  reg.notices.forEach((n, i) => {
    if (noticeIds.has(n.id)) issue('DUPLICATE_ID', `notices[${i}].id`, `duplicate notice id "${n.id}"`);
    noticeIds.add(n.id);
    if (!KEBAB.test(n.id)) issue('INVALID_ID', `notices[${i}].id`, `notice id "${n.id}" is not lowercase kebab-case`);
    ref(controllers, 'controller', n.controllerId, `notices[${i}].controllerId`);
    ref(authorities, 'complaint authority', n.complaintAuthorityId, `notices[${i}].complaintAuthorityId`);
    refs(activities, 'activity', n.activityIds, `notices[${i}].activityIds`);
    n.activityIds.forEach((a, j) => {
      const act = activities.get(a);
      if (act && act.noticeId !== n.id) issue('NOT_IN_ACTIVITY', `notices[${i}].activityIds[${j}]`, `activity "${a}" belongs to notice "${act.noticeId}"`);
    });
  });
  reg.controllers.forEach((c, i) => {
    if (!/^\d{8}$/.test(c.cvr)) issue('INVALID_ID', `controllers[${i}].cvr`, `CVR "${c.cvr}" is not 8 digits`);
  });
  const basisIds = new Set(reg.legalBases.map((b) => b.id));
  LEGAL_BASES.forEach((b) => { if (!basisIds.has(b)) issue('DANGLING_REFERENCE', 'legalBases', `legal basis ${b} has no definition`); });
  const basisKnown = (b: string, path: string): void => {
    if (!LEGAL_BASES.includes(b as never)) issue('DANGLING_REFERENCE', path, `legal basis "${b}" is not a LegalBasis`);
    else if (b === 'NOT_STATED') issue('NOT_STATED_DECLARED', path, 'NOT_STATED can never be declared');
  };

  reg.purposes.forEach((p, i) => notice(p.noticeId, `purposes[${i}].noticeId`));
  reg.dataCategories.forEach((c, i) => {
    c.noticeIds.forEach((n, j) => notice(n, `dataCategories[${i}].noticeIds[${j}]`));
    if (c.requiredLegalBasis !== undefined) basisKnown(c.requiredLegalBasis, `dataCategories[${i}].requiredLegalBasis`);
  });
  reg.recipients.forEach((r, i) => {
    if (!RECIPIENT_ROLES.includes(r.role)) issue('DANGLING_REFERENCE', `recipients[${i}].role`, `role "${r.role}" is not a RecipientRole`);
    if (r.cvr !== undefined && !/^\d{8}$/.test(r.cvr)) issue('INVALID_ID', `recipients[${i}].cvr`, `CVR "${r.cvr}" is not 8 digits`);
  });

  // Retention, third countries, collection, rights.
  reg.retentionRules.forEach((r, i) => {
    const p = `retentionRules[${i}]`;
    notice(r.noticeId, `${p}.noticeId`);
    refs(activities, 'activity', r.activityIds, `${p}.activityIds`);
    refs(categories, 'data category', r.categoryIds, `${p}.categoryIds`);
    if (r.categoryIds.length === 0) issue('EMPTY', `${p}.categoryIds`, `retention rule "${r.id}" covers no category`);
    if (r.period.kind === 'fixed' && parseIsoDuration(r.period.iso) === null) issue('INVALID_RETENTION', `${p}.period.iso`, `"${r.period.iso}" is not an ISO-8601 duration`);
    if (r.period.kind === 'end-of-year-plus' && (!Number.isInteger(r.period.years) || r.period.years < 0)) issue('INVALID_RETENTION', `${p}.period.years`, 'years must be a non-negative integer');
  });
  reg.thirdCountryRules.forEach((t, i) => {
    const p = `thirdCountryRules[${i}]`;
    refs(activities, 'activity', t.activityIds, `${p}.activityIds`);
    if (t.recipientIds) refs(recipients, 'recipient', t.recipientIds, `${p}.recipientIds`);
    if (!TRANSFER_SAFEGUARDS.includes(t.safeguard)) issue('DANGLING_REFERENCE', `${p}.safeguard`, `"${t.safeguard}" is not a TransferSafeguard`);
    if (t.countries !== 'ANY') t.countries.forEach((c, j) => { if (!COUNTRY.test(c)) issue('INVALID_ID', `${p}.countries[${j}]`, `"${c}" is not ISO 3166-1 alpha-2`); });
  });
  reg.collectionSources.forEach((c, i) => {
    refs(activities, 'activity', c.activityIds, `collectionSources[${i}].activityIds`);
    refs(categories, 'data category', c.categoryIds, `collectionSources[${i}].categoryIds`);
  });
  reg.rights.forEach((r, i) => refs(activities, 'activity', r.activityIds, `rights[${i}].activityIds`));
  for (const n of reg.notices) {
    for (const kind of DATA_SUBJECT_RIGHT_KINDS) {
      const count = reg.rights.filter((r) => r.noticeId === n.id && r.right === kind).length;
      if (count !== 1) issue('RIGHTS_INCOMPLETE', 'rights', `notice "${n.id}" has ${count} entries for the right "${kind}" (expected 1)`);
    }
  }

  // Activities and their flows.
  const usedRecipients = new Set<string>();
  reg.activities.forEach((a, i) => {
    const p = `activities[${i}]`;
    notice(a.noticeId, `${p}.noticeId`);
    refs(purposes, 'purpose', a.purposeIds, `${p}.purposeIds`);
    refs(categories, 'data category', a.categoryIds, `${p}.categoryIds`);
    refs(rules, 'retention rule', a.retentionRuleIds, `${p}.retentionRuleIds`);
    refs(thirdCountry, 'third-country rule', a.thirdCountryRuleIds, `${p}.thirdCountryRuleIds`);
    refs(collection, 'collection source', a.collectionSourceIds, `${p}.collectionSourceIds`);
    a.legalBases.forEach((b, j) => basisKnown(b, `${p}.legalBases[${j}]`));
    a.purposeIds.forEach((id, j) => {
      const pur = purposes.get(id);
      if (pur && pur.noticeId !== a.noticeId) issue('NOT_IN_ACTIVITY', `${p}.purposeIds[${j}]`, `purpose "${id}" belongs to notice "${pur.noticeId}"`);
    });
    a.retentionRuleIds.forEach((id, j) => {
      const rule = rules.get(id);
      if (rule && !rule.activityIds.includes(a.id)) issue('NOT_IN_ACTIVITY', `${p}.retentionRuleIds[${j}]`, `retention rule "${id}" does not name activity "${a.id}"`);
    });
    a.thirdCountryRuleIds.forEach((id, j) => {
      const rule = thirdCountry.get(id);
      if (rule && !rule.activityIds.includes(a.id)) issue('NOT_IN_ACTIVITY', `${p}.thirdCountryRuleIds[${j}]`, `third-country rule "${id}" does not name activity "${a.id}"`);
    });
    if (a.flows.length === 0) issue('EMPTY', `${p}.flows`, `activity "${a.id}" has no flows`);

    a.flows.forEach((f, j) => {
      const fp = `${p}.flows[${j}]`;
      if (!KEBAB.test(f.id)) issue('INVALID_ID', `${fp}.id`, `flow id "${f.id}" is not lowercase kebab-case`);
      if (flowIds.has(f.id)) issue('DUPLICATE_ID', `${fp}.id`, `duplicate flow id "${f.id}"`);
      flowIds.set(f.id, a.id);
      if (ref(recipients, 'recipient', f.recipientId, `${fp}.recipientId`)) usedRecipients.add(f.recipientId);
      f.roles.forEach((r, k) => { if (!RECIPIENT_ROLES.includes(r)) issue('DANGLING_REFERENCE', `${fp}.roles[${k}]`, `role "${r}" is not a RecipientRole`); });
      const within = (ids: readonly string[], map: Map<string, unknown>, kind: string, declared: readonly string[], field: string): void =>
        ids.forEach((id, k) => {
          if (ref(map, kind, id, `${fp}.${field}[${k}]`) && !declared.includes(id)) {
            issue('NOT_IN_ACTIVITY', `${fp}.${field}[${k}]`, `${kind} "${id}" of flow "${f.id}" is not declared by activity "${a.id}"`);
          }
        });
      within(f.purposeIds, purposes, 'purpose', a.purposeIds, 'purposeIds');
      within(f.categoryIds, categories, 'data category', a.categoryIds, 'categoryIds');
      within(f.retentionRuleIds, rules, 'retention rule', a.retentionRuleIds, 'retentionRuleIds');
      f.legalBases.forEach((b, k) => {
        basisKnown(b, `${fp}.legalBases[${k}]`);
        if (!a.legalBases.includes(b)) issue('NOT_IN_ACTIVITY', `${fp}.legalBases[${k}]`, `legal basis ${b} of flow "${f.id}" is not declared by activity "${a.id}"`);
      });
      for (const [field, list] of [['purposeIds', f.purposeIds], ['categoryIds', f.categoryIds], ['legalBases', f.legalBases], ['retentionRuleIds', f.retentionRuleIds], ['sources', f.sources]] as const) {
        if (list.length === 0) issue('EMPTY', `${fp}.${field}`, `flow "${f.id}" has no ${field}`);
      }
      f.consentScopes.forEach((s, k) => { if (!CONSENT_SCOPES.includes(s)) issue('DANGLING_REFERENCE', `${fp}.consentScopes[${k}]`, `"${s}" is not a ConsentScope`); });
      const consentBased = f.legalBases.includes('GDPR_ART6_1_A');
      if (f.consentScopes.length > 0 && !consentBased) issue('CONSENT_WITHOUT_ART6_1_A', `${fp}.legalBases`, `flow "${f.id}" needs consent but does not declare GDPR_ART6_1_A`);
      if (consentBased && f.consentScopes.length === 0) issue('ART6_1_A_WITHOUT_CONSENT_SCOPE', `${fp}.consentScopes`, `flow "${f.id}" rests on consent but names no consent scope`);
      f.categoryIds.forEach((c, k) => {
        const required = categories.get(c)?.requiredLegalBasis;
        if (required !== undefined && !f.legalBases.includes(required)) {
          issue('REQUIRED_BASIS_MISSING', `${fp}.legalBases`, `flow "${f.id}" carries "${c}" (categoryIds[${k}]) but not the legal basis ${required} it needs`);
        }
        const covered = f.retentionRuleIds.some((r) => rules.get(r)?.categoryIds.includes(c));
        if (!covered) issue('CATEGORY_WITHOUT_RETENTION', `${fp}.categoryIds[${k}]`, `no retention rule of flow "${f.id}" covers "${c}"`);
      });
    });
  });
  reg.recipients.forEach((r, i) => {
    if (!usedRecipients.has(r.id)) issue('UNUSED_RECIPIENT', `recipients[${i}]`, `recipient "${r.id}" is not used by any flow`);
  });

  // Every item carries at least one source with a known section reference and a quote.
  const sourced: [string, readonly { sources: readonly SourceRef[] }[]][] = [
    ['controllers', reg.controllers], ['complaintAuthorities', reg.complaintAuthorities], ['notices', reg.notices], ['purposes', reg.purposes],
    ['dataCategories', reg.dataCategories], ['recipients', reg.recipients], ['retentionRules', reg.retentionRules],
    ['thirdCountryRules', reg.thirdCountryRules], ['collectionSources', reg.collectionSources], ['rights', reg.rights], ['activities', reg.activities],
  ];
  for (const [path, items] of sourced) {
    items.forEach((item, i) => { if (item.sources.length === 0) issue('MISSING_SOURCE', `${path}[${i}].sources`, `${path}[${i}] has no source`); });
  }
  // Every LegalBasis keeps its definition, but only the bases an activity of the notices in force
  // declares need a quote (a register of NemKonto alone does not quote the MitID Act).
  const declaredBases = new Set(reg.activities.flatMap((a) => [...a.legalBases, ...a.flows.flatMap((f) => f.legalBases)]));
  reg.legalBases.forEach((b, i) => {
    if (b.declarable && declaredBases.has(b.id) && b.sources.length === 0) issue('MISSING_SOURCE', `legalBases[${i}].sources`, `legal basis ${b.id} has no source`);
  });
  for (const { path, ref: s } of allSourceRefs(reg)) {
    const section = sourcePattern.exec(s.source)?.[1];
    if (section === undefined || !SECTION.test(section)) issue('MISSING_SOURCE', `${path}.source`, `"${s.source}" is not a known section reference`);
    if (s.quote.trim().length === 0) issue('MISSING_SOURCE', `${path}.quote`, 'empty quote');
  }
  return issues;
}

export function assertValidRegister(reg: ProcessingRegister): void {
  const issues = validateRegister(reg);
  if (issues.length > 0) {
    const first = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new SporbarError('SPB_ERR_REGISTER_INVALID', `processing register has ${issues.length} issue(s): ${first}`, {
      details: { issues: issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) },
    });
  }
}
