import type { ProcessingRegister } from '@sporbar/schemas';
import type { RecipientSummary } from '@sporbar/projections';

export interface Named {
  readonly id: string;
  readonly name: string;
}

export interface RecipientReport {
  readonly recipient: Named & { readonly role: string; readonly declaredInRegister: boolean; readonly cvr?: string };
  readonly activities: Named[];
  readonly purposes: Named[];
  readonly legalBases: Named[];
  readonly dataCategories: Named[];
  readonly disclosures: number;
  readonly undeclared: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

export interface DisclosureReport {
  readonly subject: string;
  readonly totalDisclosures: number;
  readonly recipients: RecipientReport[];
}

/**
 * Pure: per-recipient summaries from the read model + the register's names → the report. Codes the
 * register does not know (an undeclared recipient) are shown as they were recorded.
 */
export function buildDisclosureReport(register: ProcessingRegister, subject: string, summaries: readonly RecipientSummary[]): DisclosureReport {
  const index = <T extends { id: string }>(items: readonly T[]) => new Map(items.map((i) => [i.id, i]));
  const recipients = index(register.recipients);
  const purposes = index(register.purposes);
  const categories = index(register.dataCategories);
  const activities = index(register.activities);
  const bases = index(register.legalBases);
  const named = (ids: readonly string[], lookup: (id: string) => string | undefined): Named[] => ids.map((id) => ({ id, name: lookup(id) ?? id }));

  return {
    subject,
    totalDisclosures: summaries.reduce((n, s) => n + s.disclosures, 0),
    recipients: summaries.map((s) => {
      const r = recipients.get(s.recipientId);
      return {
        recipient: { id: s.recipientId, name: r?.name ?? s.recipientId, role: s.recipientRole, declaredInRegister: r !== undefined, ...(r?.cvr ? { cvr: r.cvr } : {}) },
        activities: named(s.activities, (id) => activities.get(id)?.name),
        purposes: named(s.purposes, (id) => purposes.get(id)?.description),
        legalBases: named(s.legalBases, (id) => bases.get(id as never)?.title),
        dataCategories: named(s.dataCategories, (id) => categories.get(id)?.name),
        disclosures: s.disclosures,
        undeclared: s.undeclared,
        firstAt: s.firstAt,
        lastAt: s.lastAt,
      };
    }),
  };
}
