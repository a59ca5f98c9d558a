import { describeRetention, type ProcessingRegister } from '@sporbar/schemas';
import type { DisclosureReport } from './report.ts';

/**
 * The GDPR Art. 15 answer for one subject, every fact taken from the register (nothing in the
 * templates): purposes, legal bases, categories, recipients by name, retention, where the data
 * comes from, third-country safeguards, the rights (and which do not apply, and why), the right
 * to complain to Datatilsynet, the controller and the DPO. Pure: read models + register in, report out.
 */
export interface SubjectFacts {
  readonly disclosures: DisclosureReport;
  readonly transfers: ReadonlyArray<{ recipientId: string; country: string; safeguard: string; disclosures: number }>;
  readonly consents: ReadonlyArray<{ activity: string; scope: string; given: boolean; since: string }>;
  readonly retention: ReadonlyArray<{ activity: string; ruleId: string; deadline: string; done: boolean }>;
}

export function buildArt15Report(register: ProcessingRegister, facts: SubjectFacts, generatedAt: Date) {
  const used = new Set(facts.disclosures.recipients.flatMap((r) => r.activities.map((a) => a.id)));
  // The notices that cover the subject's disclosures; with none yet, every notice (what *could* happen).
  const notices = register.notices.filter((n) => used.size === 0 || n.activityIds.some((a) => used.has(a)));
  const byId = <T extends { id: string }>(items: readonly T[]) => new Map(items.map((i) => [i.id, i]));
  const purposes = byId(register.purposes);
  const categories = byId(register.dataCategories);
  const bases = byId(register.legalBases);
  const rules = byId(register.retentionRules);
  const sources = byId(register.collectionSources);
  const thirdCountry = byId(register.thirdCountryRules);
  const recipients = byId(register.recipients);
  const controllers = byId(register.controllers);
  const authorities = byId(register.complaintAuthorities);

  return {
    subject: facts.disclosures.subject,
    generatedAt: generatedAt.toISOString(),
    totalDisclosures: facts.disclosures.totalDisclosures,
    recipients: facts.disclosures.recipients,
    transfers: facts.transfers,
    consents: facts.consents,
    retentionSchedule: facts.retention.map((r) => ({ ...r, rule: rules.get(r.ruleId) ? describeRetention(rules.get(r.ruleId)!) : r.ruleId })),
    notices: notices.map((n) => {
      const controller = controllers.get(n.controllerId)!;
      const authority = authorities.get(n.complaintAuthorityId)!;
      const activities = register.activities.filter((a) => n.activityIds.includes(a.id));
      return {
        id: n.id,
        title: n.title,
        version: n.version,
        controller: { name: controller.nameEn, nameDa: controller.name, cvr: controller.cvr, address: controller.address, phone: controller.phone, email: controller.email },
        dataProtectionOfficer: { email: controller.dpo.email, postal: controller.dpo.postal, digitalPost: controller.dpo.digitalPost, caution: controller.dpo.emailCaution },
        complaint: { authority: authority.nameEn, authorityDa: authority.name, website: authority.website },
        thirdCountryPolicy: n.thirdCountryPolicy,
        rightsCaveat: n.rightsCaveat,
        automatedDecisions: n.automatedDecisions,
        activities: activities.map((a) => ({
          id: a.id,
          name: a.name,
          description: a.description,
          purposes: a.purposeIds.map((id) => ({ id, description: purposes.get(id)?.description ?? id })),
          legalBases: a.legalBases.map((id) => ({ id, title: bases.get(id)?.title ?? id, reference: bases.get(id)?.reference ?? '' })),
          dataCategories: a.categoryIds.map((id) => ({ id, name: categories.get(id)?.name ?? id, special: categories.get(id)?.special ?? false })),
          recipients: [...new Set(a.flows.map((f) => f.recipientId))].map((id) => {
            const r = recipients.get(id)!;
            return { id, name: r.name, role: r.role, ...(r.cvr ? { cvr: r.cvr } : {}), description: r.description };
          }),
          retention: a.retentionRuleIds.map((id) => ({ id, rule: describeRetention(rules.get(id)!), description: rules.get(id)!.description })),
          sourcesOfData: a.collectionSourceIds.map((id) => ({ id, name: sources.get(id)!.name, description: sources.get(id)!.description })),
          thirdCountryTransfers: a.thirdCountryRuleIds.map((id) => {
            const t = thirdCountry.get(id)!;
            return { id, countries: t.countries, safeguard: t.safeguard, ...(t.safeguardText ? { safeguardText: t.safeguardText } : {}), condition: t.condition };
          }),
        })),
        rights: register.rights
          .filter((r) => r.noticeId === n.id)
          .map((r) => ({ id: r.id, right: r.right, status: r.status, ...(r.reason ? { reason: r.reason } : {}), channels: r.channels })),
      };
    }),
  };
}

export type Art15Report = ReturnType<typeof buildArt15Report>;
