import type { DisclosureRecorded } from '../src/index.ts';

/** A fixed MitID login disclosure to a broker: the golden-bytes fixture. */
export const fixedDisclosure = (): DisclosureRecorded => ({
  eventId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  occurredAt: 1_764_000_000_123_456,
  sourceSystem: 'mitid-core',
  controllerCvr: '34051178',
  activity: 'mitid-core',
  subject: { scheme: 'PSEUDONYM', value: 'psn_3q2+7w==' },
  recipient: { id: 'mitid-broker', role: 'SUB_PROCESSOR' },
  purpose: 'mitid-authentication',
  legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
  dataCategories: ['risk-data', 'authentication-response'],
  transfer: null,
  personalDetails: null,
  correlationId: 'login-42',
});
