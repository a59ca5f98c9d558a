import { describe, expect, it } from 'vitest';
import {
  classifyDisclosure,
  createClassifier,
  findFlow,
  isEuEea,
  register,
  type Classification,
  type DisclosureFacts,
  type Flow,
  type ProcessingActivity,
} from '../src/register/index.ts';

/** A disclosure exactly as the flow declares it. */
const fixture = (activity: ProcessingActivity, flow: Flow, role = flow.roles[0]): DisclosureFacts => ({
  activity: activity.id,
  recipient: { id: flow.recipientId, role },
  purpose: flow.purposeIds[0]!,
  legalBases: [...flow.legalBases],
  dataCategories: [...flow.categoryIds],
  transfer: null,
  occurredAt: new Date('2026-03-05T10:00:00Z'),
  consentGiven: [...flow.consentScopes],
});
const fromFlow = (flowId: string, patch: Partial<DisclosureFacts> = {}): DisclosureFacts => {
  const found = findFlow(flowId);
  if (!found) throw new Error(`no flow ${flowId}`);
  return { ...fixture(found.activity, found.flow), ...patch };
};
const classify = (facts: DisclosureFacts): Classification => classifyDisclosure(register, facts);
const codes = (c: Classification): string[] => (c.status === 'undeclared' ? c.reasons.map((r) => r.code) : []);
const reasons = (c: Classification) => {
  if (c.status !== 'undeclared') throw new Error(`expected undeclared, got ${JSON.stringify(c)}`);
  return c.reasons;
};

/** Every recipient the two notices name, per activity: removing one from the register fails here. */
const EXPECTED_RECIPIENTS: Record<string, string[]> = {
  'mitid-core': ['nets-danid', 'it-operations-processors', 'registration-authority', 'mitid-broker', 'akamai-denmark', 'other-public-authorities'],
  'mitid-identity-verification': ['nets-danid', 'it-operations-processors'],
  'mitid-support': ['danish-business-authority', 'support-call-analysis-sub-processor', 'support-forwarding-authorities'],
  'nemkonto-register': ['citizens-bank', 'payment-processing-banks', 'sending-authorities', 'private-payers', 'payer-external-auditors',
    'danish-tax-authority', 'danmarks-nationalbank', 'accounting-centres', 'kmd'],
  'nemkonto-support': ['danish-business-authority', 'support-call-analysis-sub-processor', 'support-forwarding-authorities'],
};

describe('every declared flow classifies as declared', () => {
  const cases = register.activities.flatMap((a) => a.flows.map((f) => [f.id, a, f] as const));

  it('covers all 29 flows of both notices (6 + 2 + 6 + 9 + 6)', () => {
    expect(cases).toHaveLength(29);
  });

  it.each(cases)('%s', (flowId, activity, flow) => {
    for (const role of flow.roles) {
      expect(classify(fixture(activity, flow, role))).toEqual({ status: 'declared', flowId, retentionRuleIds: [...flow.retentionRuleIds] });
    }
    for (const purpose of flow.purposeIds) expect(classify({ ...fixture(activity, flow), purpose }).status).toBe('declared');
  });

  it.each(Object.entries(EXPECTED_RECIPIENTS))('%s declares exactly its recipients, each declared', (activityId, expected) => {
    const activity = register.activities.find((a) => a.id === activityId)!;
    expect([...new Set(activity.flows.map((f) => f.recipientId))].sort()).toEqual([...expected].sort());
    for (const recipientId of expected) {
      const flow = activity.flows.find((f) => f.recipientId === recipientId)!;
      expect(classify(fixture(activity, flow))).toMatchObject({ status: 'declared', flowId: flow.id });
    }
  });
});

describe('declared disclosures', () => {
  it('Akamai receives web-traffic data under the MitID act and 6(1)(e)', () => {
    expect(classify({
      activity: 'mitid-core', recipient: { id: 'akamai-denmark', role: 'CONTROLLER' }, purpose: 'mitid-traffic-security-analysis',
      legalBases: ['GDPR_ART6_1_E'], dataCategories: ['ip-address', 'visited-urls'], transfer: { country: 'DK', safeguard: 'NONE' },
    })).toEqual({ status: 'declared', flowId: 'mitid-core-akamai-denmark', retentionRuleIds: ['mitid-core-while-necessary'] });
  });

  it('a CPR number typed in the MitID support phone menu is never retained', () => {
    expect(classify(fromFlow('mitid-support-dba-inquiries', { legalBases: ['DPA_S11_1'], dataCategories: ['cpr-number'], consentGiven: [] })))
      .toEqual({ status: 'declared', flowId: 'mitid-support-dba-inquiries', retentionRuleIds: ['mitid-support-cpr-not-retained'] });
  });

  it('returns only the retention rules of the disclosed categories', () => {
    expect(classify(fromFlow('nemkonto-register-kmd', { dataCategories: ['type-of-benefit'] })))
      .toMatchObject({ status: 'declared', retentionRuleIds: ['nemkonto-transactions-not-stated'] });
    expect(classify(fromFlow('mitid-identity-verification-nets-danid', { dataCategories: ['liveness-video'] })))
      .toMatchObject({ status: 'declared', retentionRuleIds: ['mitid-verification-1-day'] });
  });

  it('a consent flow is declared when consent is unknown or given; call analysis accepts either consent scope', () => {
    expect(classify(fromFlow('mitid-support-dba-call-recording', { consentGiven: undefined })).status).toBe('declared');
    expect(classify(fromFlow('mitid-support-dba-call-recording', { consentGiven: ['SCREEN_SHARING', 'CALL_RECORDING'] })).status).toBe('declared');
    expect(classify(fromFlow('nemkonto-support-call-analysis', { consentGiven: ['TREND_SURVEY'] })).status).toBe('declared');
    expect(classify(fromFlow('nemkonto-support-call-analysis', { consentGiven: ['CALL_ANALYSIS'] })).status).toBe('declared');
  });

  it('the MitID broker may be a sub-processor, a public authority or a company (controller)', () => {
    for (const role of ['SUB_PROCESSOR', 'PUBLIC_AUTHORITY', 'CONTROLLER'] as const) {
      expect(classify(fromFlow('mitid-core-mitid-broker', { recipient: { id: 'mitid-broker', role } })).status).toBe('declared');
    }
  });
});

describe('undeclared disclosures: one reason each', () => {
  it('unknown activity', () => {
    const r = reasons(classify(fromFlow('mitid-core-nets-danid', { activity: 'mitid-marketing' })));
    expect(r.map((x) => x.code)).toEqual(['UNKNOWN_ACTIVITY']);
    expect(r[0]!.message).toBe('activity "mitid-marketing" is not in the processing register');
  });

  it('recipient not declared for the activity (Akamai for the NemKonto register)', () => {
    const r = reasons(classify(fromFlow('nemkonto-register-payment-processing-banks', { recipient: { id: 'akamai-denmark', role: 'CONTROLLER' } })));
    expect(r.map((x) => x.code)).toEqual(['RECIPIENT_NOT_DECLARED']);
    expect(r[0]!.message).toBe('recipient "akamai-denmark" is not declared for activity "nemkonto-register"');
    expect(r[0]!.details.declaredRecipients).toEqual(EXPECTED_RECIPIENTS['nemkonto-register']);
  });

  it('role mismatch (Nets DanID as a public authority, Akamai as a processor)', () => {
    const r = reasons(classify(fromFlow('mitid-core-nets-danid', { recipient: { id: 'nets-danid', role: 'PUBLIC_AUTHORITY' } })));
    expect(r.map((x) => x.code)).toEqual(['ROLE_MISMATCH']);
    expect(r[0]!.details).toMatchObject({ role: 'PUBLIC_AUTHORITY', registeredRoles: ['PROCESSOR'], flowId: 'mitid-core-nets-danid' });
    expect(codes(classify(fromFlow('mitid-core-akamai-denmark', { recipient: { id: 'akamai-denmark', role: 'PROCESSOR' } })))).toEqual(['ROLE_MISMATCH']);
    expect(codes(classify(fromFlow('mitid-core-mitid-broker', { recipient: { id: 'mitid-broker', role: 'UNKNOWN' } })))).toEqual(['ROLE_MISMATCH']);
  });

  it('purpose not declared for the recipient (Akamai for issuing MitID)', () => {
    const r = reasons(classify(fromFlow('mitid-core-akamai-denmark', { purpose: 'mitid-issuance-administration-use' })));
    expect(r.map((x) => x.code)).toEqual(['PURPOSE_NOT_DECLARED']);
    expect(r[0]!.message).toBe('purpose "mitid-issuance-administration-use" is not declared for flow "mitid-core-akamai-denmark"');
  });

  it('category not declared: one reason naming each category', () => {
    const r = reasons(classify(fromFlow('mitid-core-akamai-denmark', { dataCategories: ['ip-address', 'risk-data', 'shoe-size', 'risk-data'] })));
    expect(r.map((x) => [x.code, x.details.category])).toEqual([['CATEGORY_NOT_DECLARED', 'risk-data'], ['CATEGORY_NOT_DECLARED', 'shoe-size']]);
    expect(r[0]!.message).toBe('data category "risk-data" is not declared for flow "mitid-core-akamai-denmark"');
  });

  it('legal basis: undeclared, NOT_STATED, empty, and a CPR number without DPA §11(1)', () => {
    const undeclared = reasons(classify(fromFlow('mitid-core-akamai-denmark', { legalBases: ['GDPR_ART6_1_A'] })));
    expect(undeclared.map((x) => x.code)).toEqual(['LEGAL_BASIS_MISMATCH']);
    expect(undeclared[0]!.details).toMatchObject({ undeclared: ['GDPR_ART6_1_A'], notStated: false, empty: false });

    const notStated = reasons(classify(fromFlow('mitid-core-akamai-denmark', { legalBases: ['GDPR_ART6_1_E', 'NOT_STATED'] })));
    expect(notStated.map((x) => x.code)).toEqual(['LEGAL_BASIS_MISMATCH']);
    expect(notStated[0]!.details).toMatchObject({ undeclared: [], notStated: true });

    const empty = reasons(classify(fromFlow('nemkonto-register-kmd', { legalBases: [] })));
    expect(empty.map((x) => x.code)).toEqual(['LEGAL_BASIS_MISMATCH']);
    expect(empty[0]!.message).toContain('no legal basis stated');

    const cpr = reasons(classify(fromFlow('nemkonto-register-danish-tax-authority', { legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'] })));
    expect(cpr.map((x) => x.code)).toEqual(['LEGAL_BASIS_MISMATCH']);
    expect(cpr[0]!.details.missingRequired).toEqual(['DPA_S11_1']);
  });

  it('transfers: Greenland without a safeguard is undeclared, with SCC declared; the US is never declared for MitID', () => {
    const gl = reasons(classify(fromFlow('mitid-core-mitid-broker', { transfer: { country: 'GL', safeguard: 'NONE' } })));
    expect(gl.map((x) => x.code)).toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
    expect(gl[0]!.details).toMatchObject({ country: 'GL', allowedSafeguards: ['STANDARD_CONTRACTUAL_CLAUSES'] });
    expect(classify(fromFlow('mitid-core-mitid-broker', { transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } })).status).toBe('declared');
    expect(classify(fromFlow('mitid-support-dba-inquiries', { transfer: { country: 'fo', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } })).status).toBe('declared');
    const us = reasons(classify(fromFlow('mitid-core-akamai-denmark', { transfer: { country: 'US', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } })));
    expect(us.map((x) => x.code)).toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
    expect(us[0]!.message).toBe('transfer to US (outside the EU/EEA) is not declared for activity "mitid-core" and recipient "akamai-denmark"');
    expect(codes(classify(fromFlow('mitid-core-akamai-denmark', { transfer: { country: 'US', safeguard: 'ADEQUACY_DECISION' } })))).toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
  });

  it('transfers inside the EU/EEA need no safeguard', () => {
    for (const country of ['DK', 'SE', 'NO', 'IS', 'LI', 'DE']) {
      expect(classify(fromFlow('mitid-core-nets-danid', { transfer: { country, safeguard: 'NONE' } })).status).toBe('declared');
    }
    expect([isEuEea('GL'), isEuEea('FO'), isEuEea('GB'), isEuEea('CH'), isEuEea('dk')]).toEqual([false, false, false, false, true]);
  });

  it('NemKonto: payment information to a foreign bank only on the citizen\'s request, and only to banks', () => {
    const foreign = { country: 'US', safeguard: 'DATA_SUBJECT_REQUEST' } as const;
    expect(classify(fromFlow('nemkonto-register-payment-processing-banks', { transfer: foreign })).status).toBe('declared');
    expect(classify(fromFlow('nemkonto-register-citizens-bank', { transfer: { country: 'GL', safeguard: 'DATA_SUBJECT_REQUEST' } })).status).toBe('declared');
    expect(codes(classify(fromFlow('nemkonto-register-payment-processing-banks', { transfer: { country: 'US', safeguard: 'NONE' } })))).toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
    expect(codes(classify(fromFlow('nemkonto-register-danish-tax-authority', { transfer: foreign })))).toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
    expect(codes(classify(fromFlow('nemkonto-register-payment-processing-banks', { transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } }))))
      .toEqual(['TRANSFER_WITHOUT_SAFEGUARD']);
  });

  it('consent missing for call recording (and for screen sharing when only another scope was given)', () => {
    const r = reasons(classify(fromFlow('mitid-support-dba-call-recording', { consentGiven: [] })));
    expect(r.map((x) => x.code)).toEqual(['CONSENT_MISSING']);
    expect(r[0]!.details).toEqual({ flowId: 'mitid-support-dba-call-recording', requiredScopes: ['CALL_RECORDING'], consentGiven: [] });
    expect(codes(classify(fromFlow('nemkonto-support-dba-screen-sharing', { consentGiven: ['SATISFACTION_SURVEY'] })))).toEqual(['CONSENT_MISSING']);
  });
});

describe('undeclared disclosures: several reasons, best-matching flow', () => {
  it('collects every reason at once', () => {
    const r = reasons(classify({
      activity: 'mitid-core', recipient: { id: 'akamai-denmark', role: 'PROCESSOR' }, purpose: 'mitid-support',
      legalBases: ['NOT_STATED'], dataCategories: ['ip-address', 'cpr-number'], transfer: { country: 'US', safeguard: 'NONE' },
    }));
    expect(r.map((x) => x.code)).toEqual(['ROLE_MISMATCH', 'PURPOSE_NOT_DECLARED', 'CATEGORY_NOT_DECLARED', 'LEGAL_BASIS_MISMATCH', 'TRANSFER_WITHOUT_SAFEGUARD']);
    expect(r[2]!.details.category).toBe('cpr-number');
    expect(r[3]!.details).toMatchObject({ notStated: true, missingRequired: ['DPA_S11_1'] });
  });

  it('an unknown activity still reports an unknown recipient, NOT_STATED and a third-country transfer', () => {
    expect(codes(classify({
      activity: 'loyalty-programme', recipient: { id: 'acme-ads', role: 'CONTROLLER' }, purpose: 'marketing',
      legalBases: ['NOT_STATED'], dataCategories: ['email-address', 'shoe-size'], transfer: { country: 'US', safeguard: 'NONE' },
    }))).toEqual(['UNKNOWN_ACTIVITY', 'RECIPIENT_NOT_DECLARED', 'PURPOSE_NOT_DECLARED', 'CATEGORY_NOT_DECLARED', 'LEGAL_BASIS_MISMATCH', 'TRANSFER_WITHOUT_SAFEGUARD']);
  });

  it('an undeclared recipient is also checked against the activity as a whole', () => {
    expect(codes(classify({
      activity: 'nemkonto-register', recipient: { id: 'akamai-denmark', role: 'CONTROLLER' }, purpose: 'mitid-traffic-security-analysis',
      legalBases: ['MITID_ACT_783_2021'], dataCategories: ['ip-address'], transfer: null,
    }))).toEqual(['RECIPIENT_NOT_DECLARED', 'PURPOSE_NOT_DECLARED', 'CATEGORY_NOT_DECLARED', 'LEGAL_BASIS_MISMATCH']);
  });

  it('reports against the flow the disclosure most plausibly meant (recording under 6(1)(e) without consent)', () => {
    const r = reasons(classify(fromFlow('mitid-support-dba-call-recording', { legalBases: ['GDPR_ART6_1_E'], consentGiven: ['SATISFACTION_SURVEY'] })));
    expect(r.map((x) => x.code)).toEqual(['LEGAL_BASIS_MISMATCH', 'CONSENT_MISSING']);
    expect(r.every((x) => x.details.flowId === 'mitid-support-dba-call-recording')).toBe(true);
  });

  it('NemKonto support has no CPR phone menu', () => {
    expect(codes(classify(fromFlow('nemkonto-support-dba-inquiries', { dataCategories: ['cpr-number'], legalBases: ['DPA_S11_1'] }))))
      .toEqual(['CATEGORY_NOT_DECLARED', 'LEGAL_BASIS_MISMATCH']);
  });

  it('is pure: frozen input, same answer twice', () => {
    const facts = Object.freeze(fromFlow('mitid-core-akamai-denmark', { dataCategories: Object.freeze(['ip-address', 'risk-data']) as string[] }));
    const first = classify(facts);
    expect(classify(facts)).toEqual(first);
    expect(facts.dataCategories).toEqual(['ip-address', 'risk-data']);
  });
});

describe('createClassifier: classifyDisclosure with its answers remembered', () => {
  /** Every flow as declared, and variations of each that change one code at a time. */
  const variations = (): DisclosureFacts[] =>
    register.activities.flatMap((a) =>
      a.flows.flatMap((f) => {
        const base = fixture(a, f);
        return [
          base,
          { ...base, recipient: { id: f.recipientId, role: f.roles[0] === 'PROCESSOR' ? 'CONTROLLER' : 'PROCESSOR' } },
          { ...base, purpose: 'marketing' },
          { ...base, legalBases: [...base.legalBases].reverse() },
          { ...base, legalBases: ['NOT_STATED'] },
          { ...base, dataCategories: [...base.dataCategories, 'health-data'] },
          { ...base, dataCategories: base.dataCategories.slice(0, 1) },
          { ...base, transfer: { country: 'GL', safeguard: 'NONE' } },
          { ...base, transfer: { country: 'GL', safeguard: 'SCC' } },
          { ...base, consentGiven: [] },
          { ...base, consentGiven: undefined },
          { ...base, activity: 'no-such-activity' },
        ] as DisclosureFacts[];
      }),
    );

  it('gives the same answer as classifyDisclosure for every flow and every variation, first time and again', () => {
    const classifier = createClassifier(register);
    const all = variations();
    expect(all.length).toBeGreaterThan(300);
    for (const round of [1, 2]) {
      for (const facts of all) expect(classifier(facts), `round ${round}: ${JSON.stringify(facts)}`).toEqual(classifyDisclosure(register, facts));
    }
  });

  it('remembers: the same facts give the same answer object; different facts never share one', () => {
    const classifier = createClassifier(register);
    const facts = fromFlow('nemkonto-register-kmd');
    const first = classifier(facts);
    expect(classifier({ ...facts, legalBases: [...facts.legalBases], dataCategories: [...facts.dataCategories] })).toBe(first);
    // Codes that would run together without separators are different facts.
    const a = classifier({ ...facts, dataCategories: ['type-of-benefit', 'cpr-number'] });
    const b = classifier({ ...facts, dataCategories: ['type-of-benefitcpr-number'] });
    expect(a).not.toBe(b);
    expect(codes(b)).toContain('CATEGORY_NOT_DECLARED');
  });

  it('stays bounded: more combinations than its capacity are still answered right', () => {
    const classifier = createClassifier(register, 4);
    const all = variations().slice(0, 40);
    for (const facts of [...all, ...all]) expect(classifier(facts)).toEqual(classifyDisclosure(register, facts));
  });
});
