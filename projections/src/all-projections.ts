import type { RegisterSource } from '@sporbar/schemas';
import { accessLog } from './access-log/access-log.ts';
import { createComplianceAlerts } from './compliance/compliance-alerts.ts';
import { consents } from './consents/consents.ts';
import type { AnyProjection } from './projection.ts';
import { recipientLedger } from './recipient-ledger/recipient-ledger.ts';
import { createRetentionSchedule } from './retention/retention-schedule.ts';
import { subjectDisclosures } from './subject-disclosures/subject-disclosures.ts';

/**
 * Every read model, in the order they are applied within one transaction (consents before alerts).
 * `register`: the register files (retention and consent rules of the notice version in force at each
 * disclosure's occurredAt) or one fixed register.
 */
export const allProjections = (register: RegisterSource): AnyProjection[] => [
  subjectDisclosures,
  consents,
  recipientLedger,
  createRetentionSchedule(register),
  createComplianceAlerts(register),
  accessLog,
];
