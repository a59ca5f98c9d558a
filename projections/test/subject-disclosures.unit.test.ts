import { describe, expect, it } from 'vitest';
import type { DisclosureRecorded } from '@sporbar/schemas';
import { disclosureClassification, projectSubjectDisclosure, type ProjectedEvent } from '../src/index.ts';

const disclosure: DisclosureRecorded = {
  eventId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  occurredAt: 1_764_000_000_123_456,
  sourceSystem: 'nemkonto',
  controllerCvr: '34051178',
  activity: 'nemkonto-register',
  subject: { scheme: 'PSEUDONYM', value: 'psn_k1_' + 'a'.repeat(43) },
  recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
  purpose: 'nemkonto-payments',
  legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
  dataCategories: ['transaction-history'],
  transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' },
  personalDetails: null,
  correlationId: 'payment-9',
};

const projected = (metadata: Record<string, string>): ProjectedEvent => ({ type: 'DisclosureRecorded', data: disclosure, eventId: disclosure.eventId, globalPosition: 42n, metadata });

describe('subject disclosures projection (pure)', () => {
  it('turns a declared disclosure into one row with codes only', () => {
    expect(projectSubjectDisclosure(projected({ classification: 'declared', flow: 'x', notice: 'nemkonto', noticeSha256: 'ab'.repeat(32) }))).toEqual([
      {
        kind: 'disclosure',
        row: {
          eventId: disclosure.eventId,
          subject: disclosure.subject.value,
          position: 42n,
          occurredAtMicros: 1_764_000_000_123_456,
          activity: 'nemkonto-register',
          recipientId: 'danish-tax-authority',
          recipientRole: 'PUBLIC_AUTHORITY',
          purpose: 'nemkonto-payments',
          legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
          dataCategories: ['transaction-history'],
          transferCountry: 'GL',
          transferSafeguard: 'STANDARD_CONTRACTUAL_CLAUSES',
          classification: 'declared',
          reasons: [],
          correlationId: 'payment-9',
          notice: 'nemkonto',
          noticeVersion: null,
          noticeSha256: 'ab'.repeat(32),
          details: null,
        },
      },
    ]);
  });

  it('carries the reasons of an undeclared disclosure', () => {
    const [change] = projectSubjectDisclosure(projected({ classification: 'undeclared', reasons: 'RECIPIENT_NOT_DECLARED,CATEGORY_NOT_DECLARED' }));
    expect(change!.row.classification).toBe('undeclared');
    expect(change!.row.reasons).toEqual(['RECIPIENT_NOT_DECLARED', 'CATEGORY_NOT_DECLARED']);
    // No notice version named (stored before versions were named, or no notice in force covered it).
    expect([change!.row.notice, change!.row.noticeVersion, change!.row.noticeSha256]).toEqual([null, null, null]);
  });

  it('ignores events that are not disclosures', () => {
    const consent: ProjectedEvent = {
      type: 'ConsentGiven',
      data: { eventId: disclosure.eventId, occurredAt: 1, sourceSystem: 's', activity: 'mitid-support', subject: disclosure.subject, scope: 'CALL_RECORDING' },
      eventId: disclosure.eventId,
      globalPosition: 1n,
      metadata: {},
    };
    expect(projectSubjectDisclosure(consent)).toEqual([]);
  });
});

describe('the classification the subject sees', () => {
  it('is the stored one without an alert', () => {
    expect(disclosureClassification({ classification: 'declared', reasons: [] }, null)).toEqual({ classification: 'declared', reasons: [] });
    expect(disclosureClassification({ classification: 'undeclared', reasons: ['PURPOSE_NOT_DECLARED'] }, null)).toEqual({ classification: 'undeclared', reasons: ['PURPOSE_NOT_DECLARED'] });
  });

  it('is undeclared with CONSENT_MISSING when the compliance alerts found the consent missing', () => {
    expect(disclosureClassification({ classification: 'declared', reasons: [] }, ['CONSENT_MISSING'])).toEqual({ classification: 'undeclared', reasons: ['CONSENT_MISSING'] });
  });

  it('names a reason once when the alert repeats the stored reasons', () => {
    expect(disclosureClassification({ classification: 'undeclared', reasons: ['ROLE_MISMATCH'] }, ['ROLE_MISMATCH'])).toEqual({ classification: 'undeclared', reasons: ['ROLE_MISMATCH'] });
  });
});
