import type { ProcessingRegister } from '@sporbar/schemas';
import { accessLog } from './access-log/access-log.ts';
import { createComplianceAlerts } from './compliance/compliance-alerts.ts';
import { consents } from './consents/consents.ts';
import type { AnyProjection } from './projection.ts';
import { recipientLedger } from './recipient-ledger/recipient-ledger.ts';
import { createRetentionSchedule } from './retention/retention-schedule.ts';
import { subjectDisclosures } from './subject-disclosures/subject-disclosures.ts';

/** Every read model, in the order they are applied within one transaction (consents before alerts). */
export const allProjections = (register: ProcessingRegister): AnyProjection[] => [
  subjectDisclosures,
  consents,
  recipientLedger,
  createRetentionSchedule(register),
  createComplianceAlerts(register),
  accessLog,
];
