/**
 * Is a disclosure covered by the processing register? Pure: the same register and facts always give
 * the same answer. An undeclared disclosure is kept and flagged by the caller, never rejected; this
 * function only says why it is not covered, with every reason that applies.
 */
import { register as defaultRegister } from './register.ts';
import { createCache } from '@sporbar/common/cache';
import type {
  ConsentScope,
  DataSubjectRight,
  Flow,
  LegalBasis,
  NoticeId,
  ProcessingActivity,
  ProcessingRegister,
  RecipientRole,
  RegisterRecipient,
  TransferSafeguard,
} from './types.ts';

export { describeRetention, retentionDeadline } from './retention.ts';

export interface DisclosureFacts {
  activity: string;
  recipient: { id: string; role: RecipientRole };
  purpose: string;
  legalBases: LegalBasis[];
  dataCategories: string[];
  transfer: { country: string /* ISO 3166-1 alpha-2 */; safeguard: TransferSafeguard } | null;
  occurredAt?: Date;
  /** Consent scopes the subject currently has given, when known. */
  consentGiven?: ConsentScope[];
}

export type UndeclaredCode =
  | 'UNKNOWN_ACTIVITY'
  | 'RECIPIENT_NOT_DECLARED'
  | 'ROLE_MISMATCH'
  | 'PURPOSE_NOT_DECLARED'
  | 'CATEGORY_NOT_DECLARED'
  | 'LEGAL_BASIS_MISMATCH'
  | 'TRANSFER_WITHOUT_SAFEGUARD'
  | 'CONSENT_MISSING';

export interface UndeclaredReason {
  code: UndeclaredCode;
  message: string;
  details: Record<string, unknown>;
}

export type Classification =
  | { status: 'declared'; flowId: string; retentionRuleIds: string[] }
  | { status: 'undeclared'; reasons: UndeclaredReason[] };

/** EU member states and the EEA members Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2). */
export const EU_EEA_COUNTRIES: readonly string[] = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO',
];

/** Greenland (GL) and the Faroe Islands (FO) are outside the EU/EEA although part of the Danish realm. */
export const isEuEea = (country: string): boolean => EU_EEA_COUNTRIES.includes(country.trim().toUpperCase());

// Weights pick the flow a disclosure most plausibly meant: a flow that agrees on what went where and
// why (purpose, categories) is a better match than one that only agrees on the paperwork.
const WEIGHT: Record<UndeclaredCode, number> = {
  UNKNOWN_ACTIVITY: 100, RECIPIENT_NOT_DECLARED: 50, PURPOSE_NOT_DECLARED: 4, CATEGORY_NOT_DECLARED: 4,
  ROLE_MISMATCH: 2, LEGAL_BASIS_MISMATCH: 1, CONSENT_MISSING: 1, TRANSFER_WITHOUT_SAFEGUARD: 1,
};

export function classifyDisclosure(register: ProcessingRegister, input: DisclosureFacts): Classification {
  // A category or basis named twice is one fact, not two reasons.
  const facts: DisclosureFacts = { ...input, dataCategories: [...new Set(input.dataCategories)], legalBases: [...new Set(input.legalBases)] };
  const activity = register.activities.find((a) => a.id === facts.activity);
  if (!activity) {
    const reasons: UndeclaredReason[] = [{
      code: 'UNKNOWN_ACTIVITY', message: `activity "${facts.activity}" is not in the processing register`,
      details: { activity: facts.activity, knownActivities: register.activities.map((a) => a.id) },
    }];
    if (!register.recipients.some((r) => r.id === facts.recipient.id)) reasons.push(recipientNotDeclared(facts, null));
    if (!register.purposes.some((p) => p.id === facts.purpose)) reasons.push(purposeNotDeclared(facts.purpose, null, []));
    const known = new Set(register.dataCategories.map((c) => c.id));
    for (const c of facts.dataCategories) if (!known.has(c)) reasons.push(categoryNotDeclared(c, null, []));
    const basis = legalBasisReason(register, facts, null);
    if (basis) reasons.push(basis);
    const transfer = transferReason(register, facts, null);
    if (transfer) reasons.push(transfer);
    return { status: 'undeclared', reasons };
  }

  const flows = activity.flows.filter((f) => f.recipientId === facts.recipient.id);
  if (flows.length === 0) {
    // Not declared for this activity: still say what else the activity as a whole does not cover.
    const reasons: UndeclaredReason[] = [recipientNotDeclared(facts, activity)];
    if (!activity.purposeIds.includes(facts.purpose)) reasons.push(purposeNotDeclared(facts.purpose, activity.id, activity.purposeIds));
    for (const c of facts.dataCategories) if (!activity.categoryIds.includes(c)) reasons.push(categoryNotDeclared(c, activity.id, activity.categoryIds));
    const basis = legalBasisReason(register, facts, { id: activity.id, legalBases: activity.legalBases });
    if (basis) reasons.push(basis);
    const transfer = transferReason(register, facts, activity);
    if (transfer) reasons.push(transfer);
    return { status: 'undeclared', reasons };
  }

  let best: { flow: Flow; reasons: UndeclaredReason[]; score: number } | null = null;
  for (const flow of flows) {
    const reasons = flowReasons(register, activity, flow, facts);
    const score = reasons.reduce((s, r) => s + WEIGHT[r.code], 0);
    if (best === null || score < best.score) best = { flow, reasons, score };
    if (score === 0) break;
  }
  if (best === null) throw new Error('unreachable: flows is not empty');
  if (best.reasons.length > 0) return { status: 'undeclared', reasons: best.reasons };
  return { status: 'declared', flowId: best.flow.id, retentionRuleIds: retentionFor(register, best.flow, facts.dataCategories) };
}

/**
 * `classifyDisclosure` with its answers remembered: the answer depends only on the register and the
 * facts' codes (activity, recipient and role, purpose, bases, categories, transfer, consent), and a
 * system's disclosures repeat a handful of combinations, so the ingest classifies each combination
 * once instead of once per event (the checks allocate sets and arrays on every call). Bounded (the
 * `capacity` combinations used last): hostile variety costs memory no more than that. The
 * answers handed out are shared: callers must not change them.
 */
export function createClassifier(register: ProcessingRegister, capacity = 2048): (facts: DisclosureFacts) => Classification {
  const answers = createCache<string, Classification>(capacity);
  // occurredAt is not part of the key: no check reads it (the register's flows have no periods).
  return (facts) => {
    const t = facts.transfer;
    // Unit separators cannot occur in codes the schema admits, so distinct facts never share a key.
    const key = [
      facts.activity, facts.recipient.id, facts.recipient.role, facts.purpose,
      facts.legalBases.join('\u001f'), facts.dataCategories.join('\u001f'),
      t === null ? '' : `${t.country}\u001f${t.safeguard}`,
      facts.consentGiven === undefined ? '\u0000' : facts.consentGiven.join('\u001f'),
    ].join('\u001e');
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = classifyDisclosure(register, facts);
      answers.set(key, answer);
    }
    return answer;
  };
}

function flowReasons(register: ProcessingRegister, activity: ProcessingActivity, flow: Flow, facts: DisclosureFacts): UndeclaredReason[] {
  const reasons: UndeclaredReason[] = [];
  if (!flow.roles.includes(facts.recipient.role)) {
    reasons.push({
      code: 'ROLE_MISMATCH',
      message: `recipient "${facts.recipient.id}" is registered as ${flow.roles.join(' or ')} for flow "${flow.id}", not ${facts.recipient.role}`,
      details: { recipient: facts.recipient.id, role: facts.recipient.role, registeredRoles: [...flow.roles], flowId: flow.id },
    });
  }
  if (!flow.purposeIds.includes(facts.purpose)) reasons.push(purposeNotDeclared(facts.purpose, activity.id, flow.purposeIds, flow.id));
  for (const c of facts.dataCategories) if (!flow.categoryIds.includes(c)) reasons.push(categoryNotDeclared(c, activity.id, flow.categoryIds, flow.id));
  const basis = legalBasisReason(register, facts, { id: activity.id, legalBases: flow.legalBases, flowId: flow.id });
  if (basis) reasons.push(basis);
  if (flow.consentScopes.length > 0 && facts.consentGiven !== undefined && !flow.consentScopes.some((s) => facts.consentGiven!.includes(s))) {
    reasons.push({
      code: 'CONSENT_MISSING',
      message: `flow "${flow.id}" rests on consent (${flow.consentScopes.join(' or ')}) that the subject has not given`,
      details: { flowId: flow.id, requiredScopes: [...flow.consentScopes], consentGiven: [...facts.consentGiven] },
    });
  }
  const transfer = transferReason(register, facts, activity);
  if (transfer) reasons.push(transfer);
  return reasons;
}

function recipientNotDeclared(facts: DisclosureFacts, activity: ProcessingActivity | null): UndeclaredReason {
  return activity === null
    ? { code: 'RECIPIENT_NOT_DECLARED', message: `recipient "${facts.recipient.id}" is not in the processing register`, details: { recipient: facts.recipient.id } }
    : {
      code: 'RECIPIENT_NOT_DECLARED',
      message: `recipient "${facts.recipient.id}" is not declared for activity "${activity.id}"`,
      details: { recipient: facts.recipient.id, activity: activity.id, declaredRecipients: [...new Set(activity.flows.map((f) => f.recipientId))] },
    };
}

function purposeNotDeclared(purpose: string, activity: string | null, declared: readonly string[], flowId?: string): UndeclaredReason {
  const where = flowId ? `flow "${flowId}"` : activity ? `activity "${activity}"` : 'the processing register';
  return { code: 'PURPOSE_NOT_DECLARED', message: `purpose "${purpose}" is not declared for ${where}`, details: { purpose, activity, flowId: flowId ?? null, declaredPurposes: [...declared] } };
}

function categoryNotDeclared(category: string, activity: string | null, declared: readonly string[], flowId?: string): UndeclaredReason {
  const where = flowId ? `flow "${flowId}"` : activity ? `activity "${activity}"` : 'the processing register';
  return { code: 'CATEGORY_NOT_DECLARED', message: `data category "${category}" is not declared for ${where}`, details: { category, activity, flowId: flowId ?? null, declaredCategories: [...declared] } };
}

/**
 * The stated bases must be non-empty, must not contain NOT_STATED, must all be declared (for the
 * flow, or the activity when no flow applies), and must include any basis a disclosed category
 * requires (the CPR number needs DPA §11(1)). `scope` null: no activity, only the first two checks.
 */
function legalBasisReason(register: ProcessingRegister, facts: DisclosureFacts, scope: { id: string; legalBases: readonly LegalBasis[]; flowId?: string } | null): UndeclaredReason | null {
  const stated = [...new Set(facts.legalBases)];
  const problems: string[] = [];
  if (stated.length === 0) problems.push('no legal basis stated');
  if (stated.includes('NOT_STATED')) problems.push('legal basis NOT_STATED');
  const undeclared = scope === null ? [] : stated.filter((b) => b !== 'NOT_STATED' && !scope.legalBases.includes(b));
  if (undeclared.length > 0) problems.push(`${undeclared.join(', ')} not declared`);
  const missingRequired = scope === null ? [] : [...new Set(facts.dataCategories
    .map((c) => register.dataCategories.find((d) => d.id === c)?.requiredLegalBasis)
    .filter((b): b is LegalBasis => b !== undefined && !stated.includes(b)))];
  if (missingRequired.length > 0) problems.push(`${missingRequired.join(', ')} required by the data categories but not stated`);
  if (problems.length === 0) return null;
  const where = scope === null ? '' : scope.flowId ? ` for flow "${scope.flowId}"` : ` for activity "${scope.id}"`;
  return {
    code: 'LEGAL_BASIS_MISMATCH',
    message: `legal basis mismatch${where}: ${problems.join('; ')}`,
    details: { stated, declared: scope === null ? [] : [...scope.legalBases], undeclared, missingRequired, notStated: stated.includes('NOT_STATED'), empty: stated.length === 0, flowId: scope?.flowId ?? null },
  };
}

function transferReason(register: ProcessingRegister, facts: DisclosureFacts, activity: ProcessingActivity | null): UndeclaredReason | null {
  if (facts.transfer === null) return null;
  const country = facts.transfer.country.trim().toUpperCase();
  if (isEuEea(country)) return null;
  const rules = activity === null ? [] : register.thirdCountryRules.filter((r) => r.activityIds.includes(activity.id) && activity.thirdCountryRuleIds.includes(r.id));
  const allowed = rules.filter((r) => (r.countries === 'ANY' || r.countries.includes(country)) && (r.recipientIds === undefined || r.recipientIds.includes(facts.recipient.id)));
  if (allowed.some((r) => r.safeguard === facts.transfer!.safeguard)) return null;
  return {
    code: 'TRANSFER_WITHOUT_SAFEGUARD',
    message: allowed.length === 0
      ? `transfer to ${country} (outside the EU/EEA) is not declared for ${activity ? `activity "${activity.id}" and recipient "${facts.recipient.id}"` : 'an unknown activity'}`
      : `transfer to ${country} with safeguard ${facts.transfer.safeguard}; the register allows only ${allowed.map((r) => r.safeguard).join(', ')}`,
    details: { country, safeguard: facts.transfer.safeguard, allowedSafeguards: allowed.map((r) => r.safeguard), ruleIds: allowed.map((r) => r.id) },
  };
}

/** The flow's retention rules that cover at least one disclosed category (all of them when none is named). */
function retentionFor(register: ProcessingRegister, flow: Flow, categories: readonly string[]): string[] {
  if (categories.length === 0) return [...flow.retentionRuleIds];
  return flow.retentionRuleIds.filter((id) => register.retentionRules.find((r) => r.id === id)?.categoryIds.some((c) => categories.includes(c)));
}

// ---------------------------------------------------------------------------------------------------
// Look-ups the rest of the system uses (default: the built-in register)
// ---------------------------------------------------------------------------------------------------

export function findRecipient(id: string, reg: ProcessingRegister = defaultRegister): RegisterRecipient | undefined {
  return reg.recipients.find((r) => r.id === id);
}

/** The recipients an activity declares, in register order, each once. Empty for an unknown activity. */
export function activityRecipients(activityId: string, reg: ProcessingRegister = defaultRegister): RegisterRecipient[] {
  const activity = reg.activities.find((a) => a.id === activityId);
  if (!activity) return [];
  const ids = new Set(activity.flows.map((f) => f.recipientId));
  return reg.recipients.filter((r) => ids.has(r.id));
}

export function rightsFor(noticeId: NoticeId | string, reg: ProcessingRegister = defaultRegister): DataSubjectRight[] {
  return reg.rights.filter((r) => r.noticeId === noticeId);
}

export function findActivity(id: string, reg: ProcessingRegister = defaultRegister): ProcessingActivity | undefined {
  return reg.activities.find((a) => a.id === id);
}

export function findFlow(id: string, reg: ProcessingRegister = defaultRegister): { activity: ProcessingActivity; flow: Flow } | undefined {
  for (const activity of reg.activities) {
    const flow = activity.flows.find((f) => f.id === id);
    if (flow) return { activity, flow };
  }
  return undefined;
}
