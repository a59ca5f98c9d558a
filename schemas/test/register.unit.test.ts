import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import {
  activityRecipients,
  allSourceRefs,
  assertValidRegister,
  describeRetention,
  findRecipient,
  parseIsoDuration,
  register,
  retentionDeadline,
  rightsFor,
  sourcePrefixes,
  validateRegister,
  type ProcessingRegister,
  type RetentionRule,
} from '../src/register/index.ts';

/** A deep, mutable copy to break on purpose. */
type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
const copy = (): Mutable<ProcessingRegister> => structuredClone(register) as unknown as Mutable<ProcessingRegister>;
const rule = (id: string): RetentionRule => {
  const r = register.retentionRules.find((x) => x.id === id);
  if (!r) throw new Error(`no retention rule ${id}`);
  return r;
};

describe('the register validates', () => {
  it('has zero issues and assertValidRegister accepts it', () => {
    expect(validateRegister(register)).toEqual([]);
    expect(() => assertValidRegister(register)).not.toThrow();
  });

  it('checks notice ids and section references against the notices loaded, not a list in code', () => {
    expect([...sourcePrefixes(register)]).toEqual([['mitid', 'MitID '], ['nemkonto', 'NemKonto: ']]);
    const renamed = copy();
    renamed.notices[0]!.id = 'mitid-2';
    expect(validateRegister(renamed)).toContainEqual({ code: 'DANGLING_REFERENCE', path: 'purposes[0].noticeId', message: 'notice "mitid" is not defined' });
    const other = copy();
    other.purposes[0]!.sources[0]!.source = 'Skat §3';
    expect(validateRegister(other)).toEqual([{ code: 'MISSING_SOURCE', path: 'purposes[0].sources[0].source', message: '"Skat §3" is not a known section reference' }]);
    // A notice of another authority brings its prefix with it.
    other.notices[0]!.sources[0]!.source = 'Skat §1';
    expect(validateRegister(other).filter((i) => i.path === 'purposes[0].sources[0].source')).toEqual([]);
  });

  it('reports a dangling recipient id (and the recipient it orphaned) and assertValidRegister throws SPB_ERR_REGISTER_INVALID', () => {
    const broken = copy();
    const flow = broken.activities.find((a) => a.id === 'mitid-core')!.flows.find((f) => f.id === 'mitid-core-akamai-denmark')!;
    flow.recipientId = 'akamai-usa';
    const issues = validateRegister(broken);
    expect(issues).toContainEqual({ code: 'DANGLING_REFERENCE', path: 'activities[0].flows[4].recipientId', message: 'recipient "akamai-usa" is not defined in the register' });
    expect(issues).toContainEqual(expect.objectContaining({ code: 'UNUSED_RECIPIENT', message: 'recipient "akamai-denmark" is not used by any flow' }));
    expect(issues).toHaveLength(2);
    let thrown: unknown;
    try { assertValidRegister(broken); } catch (e) { thrown = e; }
    expect(isSporbarError(thrown, 'SPB_ERR_REGISTER_INVALID')).toBe(true);
    expect((thrown as Error).message).toContain('processing register has 2 issue(s)');
    expect((thrown as { details: { issues: unknown[] } }).details.issues).toHaveLength(2);
  });

  it('reports duplicate ids, non-kebab ids, a consent scope without GDPR_ART6_1_A, NOT_STATED declared, and a CPR flow without DPA §11(1)', () => {
    const broken = copy();
    broken.purposes[1]!.id = broken.purposes[0]!.id;
    broken.recipients[0]!.id = 'Other_Public_Authorities';
    const support = broken.activities.find((a) => a.id === 'mitid-support')!;
    support.flows.find((f) => f.id === 'mitid-support-dba-call-recording')!.legalBases = ['GDPR_ART6_1_E'];
    const core = broken.activities.find((a) => a.id === 'mitid-core')!;
    core.flows[0]!.legalBases = ['MITID_ACT_783_2021', 'GDPR_ART6_1_E', 'NOT_STATED'];
    const codes = validateRegister(broken).map((i) => i.code);
    expect(codes).toContain('DUPLICATE_ID');
    expect(codes).toContain('INVALID_ID');
    expect(codes).toContain('CONSENT_WITHOUT_ART6_1_A');
    expect(codes).toContain('NOT_STATED_DECLARED');
    expect(codes).toContain('REQUIRED_BASIS_MISSING');
  });

  it('reports a flow category no retention rule covers, a category outside its activity, and a bad ISO duration', () => {
    const broken = copy();
    const nk = broken.activities.find((a) => a.id === 'nemkonto-register')!;
    nk.flows.find((f) => f.id === 'nemkonto-register-citizens-bank')!.retentionRuleIds = ['nemkonto-transactions-not-stated'];
    nk.flows.find((f) => f.id === 'nemkonto-register-kmd')!.categoryIds.push('ip-address');
    const r = broken.retentionRules.find((x) => x.id === 'mitid-support-call-recording-30-days')!;
    r.period = { kind: 'fixed', iso: '30 days' };
    const issues = validateRegister(broken);
    expect(issues.filter((i) => i.code === 'CATEGORY_WITHOUT_RETENTION').map((i) => i.message)).toEqual([
      'no retention rule of flow "nemkonto-register-citizens-bank" covers "bank-account-information"',
      'no retention rule of flow "nemkonto-register-citizens-bank" covers "cpr-number"',
      'no retention rule of flow "nemkonto-register-kmd" covers "ip-address"',
    ]);
    expect(issues).toContainEqual(expect.objectContaining({ code: 'NOT_IN_ACTIVITY', message: 'data category "ip-address" of flow "nemkonto-register-kmd" is not declared by activity "nemkonto-register"' }));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'INVALID_RETENTION', message: '"30 days" is not an ISO-8601 duration' }));
  });

  it('reports a notice missing a data-subject right', () => {
    const broken = copy();
    broken.rights = broken.rights.filter((r) => r.id !== 'nemkonto-portability');
    expect(validateRegister(broken)).toEqual([
      { code: 'RIGHTS_INCOMPLETE', path: 'rights', message: 'notice "nemkonto" has 0 entries for the right "portability" (expected 1)' },
    ]);
  });
});

describe('the register matches the notice texts', () => {
  const norm = (s: string): string => s.replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ').trim();
  const text = (file: string): string => norm(readFileSync(new URL(`../src/register/notices/${file}`, import.meta.url), 'utf8'));
  const texts = { MitID: text('mitid-1.6.txt'), NemKonto: text('nemkonto.txt') };

  it('every quote occurs verbatim in the notice its source names', () => {
    const refs = allSourceRefs(register);
    expect(refs.length).toBeGreaterThan(150);
    const missing = refs.filter(({ ref }) => !texts[ref.source.startsWith('MitID') ? 'MitID' : 'NemKonto'].includes(norm(ref.quote)));
    expect(missing).toEqual([]);
  });

  it('the notice files are the texts the register was written from', () => {
    expect(texts.MitID).toContain('Privacy notice Version 1.6');
    expect(texts.NemKonto).toContain('CVR-nr.: 34051178');
    expect(register.notices.map((n) => [n.id, n.version, n.textFile])).toEqual([['mitid', '1.6', 'mitid-1.6.txt'], ['nemkonto', null, 'nemkonto.txt']]);
  });
});

describe('controller, notices, complaint authority', () => {
  it('Digitaliseringsstyrelsen with CVR, address, phone, e-mail and DPO contact', () => {
    expect(register.controllers).toHaveLength(1);
    const c = register.controllers[0]!;
    expect([c.id, c.name, c.cvr, c.phone, c.email]).toEqual(['digst', 'Digitaliseringsstyrelsen', '34051178', '+45 33 92 52 00', 'digst@digst.dk']);
    expect(c.address).toEqual({ recipient: 'Digitaliseringsstyrelsen', street: 'Landgreven 4', postcode: '1301', city: 'København K' });
    expect(c.dpo.email).toBe('dpo@digst.dk');
    expect(c.dpo.postal.map((p) => p.attention)).toEqual(['Data Protection Officer', 'Databeskyttelsesrådgiveren']);
    expect(c.dpo.digitalPost).toContain("Write 'Attention: Data Protection Officer' in the subject field.");
    expect(register.notices.every((n) => n.controllerId === 'digst' && n.complaintAuthorityId === 'datatilsynet')).toBe(true);
  });

  it('complaints go to Datatilsynet, www.datatilsynet.dk', () => {
    expect(register.complaintAuthorities).toEqual([expect.objectContaining({ id: 'datatilsynet', name: 'Datatilsynet', website: 'www.datatilsynet.dk' })]);
  });

  it('has the activities of both notices', () => {
    expect(register.activities.map((a) => [a.id, a.noticeId])).toEqual([
      ['mitid-core', 'mitid'], ['mitid-identity-verification', 'mitid'], ['mitid-support', 'mitid'],
      ['nemkonto-register', 'nemkonto'], ['nemkonto-support', 'nemkonto'],
    ]);
  });

  it('declares the legal bases each activity rests on', () => {
    const bases = Object.fromEntries(register.activities.map((a) => [a.id, [...a.legalBases].sort()]));
    expect(bases).toEqual({
      'mitid-core': ['DPA_S11_1', 'GDPR_ART6_1_E', 'MITID_ACT_783_2021'],
      'mitid-identity-verification': ['GDPR_ART6_1_E', 'MITID_ACT_783_2021'],
      'mitid-support': ['DPA_S11_1', 'GDPR_ART6_1_A', 'GDPR_ART6_1_E'],
      'nemkonto-register': ['BEK_647_2021', 'DPA_S11_1', 'GDPR_ART6_1_E', 'LBK_494_2023'],
      'nemkonto-support': ['GDPR_ART6_1_A', 'GDPR_ART6_1_E'],
    });
  });
});

describe('recipients', () => {
  const EXPECTED: [string, string][] = [
    ['other-public-authorities', 'PUBLIC_AUTHORITY'], ['nets-danid', 'PROCESSOR'], ['danish-business-authority', 'PROCESSOR'],
    ['registration-authority', 'SUB_PROCESSOR'], ['mitid-broker', 'SUB_PROCESSOR'], ['it-operations-processors', 'PROCESSOR'],
    ['akamai-denmark', 'CONTROLLER'], ['support-call-analysis-sub-processor', 'SUB_PROCESSOR'], ['support-forwarding-authorities', 'PUBLIC_AUTHORITY'],
    ['citizens-bank', 'FINANCIAL_INSTITUTION'], ['payment-processing-banks', 'FINANCIAL_INSTITUTION'], ['sending-authorities', 'PUBLIC_AUTHORITY'],
    ['private-payers', 'PRIVATE_PAYER'], ['payer-external-auditors', 'EXTERNAL_AUDITOR'], ['danish-tax-authority', 'PUBLIC_AUTHORITY'],
    ['danmarks-nationalbank', 'PUBLIC_AUTHORITY'], ['accounting-centres', 'PUBLIC_AUTHORITY'], ['kmd', 'PROCESSOR'],
  ];

  it('are exactly the recipients the notices name, with their roles', () => {
    expect(register.recipients.map((r) => [r.id, r.role])).toEqual(EXPECTED);
  });

  it('findRecipient gives Akamai with its CVR number; unknown ids give undefined', () => {
    expect(findRecipient('akamai-denmark')).toMatchObject({ name: 'Akamai Technologies Denmark ApS', cvr: '36026650', role: 'CONTROLLER' });
    expect(findRecipient('kmd')?.name).toBe('KMD A/S');
    expect(findRecipient('google')).toBeUndefined();
  });

  it('activityRecipients lists each activity\'s recipients once', () => {
    expect(activityRecipients('mitid-core').map((r) => r.id)).toEqual(['other-public-authorities', 'nets-danid', 'registration-authority', 'mitid-broker', 'it-operations-processors', 'akamai-denmark']);
    expect(activityRecipients('mitid-identity-verification').map((r) => r.id)).toEqual(['nets-danid', 'it-operations-processors']);
    expect(activityRecipients('mitid-support').map((r) => r.id)).toEqual(['danish-business-authority', 'support-call-analysis-sub-processor', 'support-forwarding-authorities']);
    expect(activityRecipients('nemkonto-support').map((r) => r.id)).toEqual(['danish-business-authority', 'support-call-analysis-sub-processor', 'support-forwarding-authorities']);
    expect(activityRecipients('nemkonto-register').map((r) => r.id)).toEqual(['citizens-bank', 'payment-processing-banks', 'sending-authorities', 'private-payers',
      'payer-external-auditors', 'danish-tax-authority', 'danmarks-nationalbank', 'accounting-centres', 'kmd']);
    expect(activityRecipients('no-such-activity')).toEqual([]);
  });
});

describe('data categories', () => {
  const category = (id: string) => register.dataCategories.find((c) => c.id === id);
  it('flags the CPR number confidential (and requiring DPA §11(1)), transaction history and type of benefit special and confidential', () => {
    expect(category('cpr-number')).toMatchObject({ confidential: true, special: false, requiredLegalBasis: 'DPA_S11_1', noticeIds: ['mitid', 'nemkonto'] });
    expect(category('transaction-history')).toMatchObject({ confidential: true, special: true });
    expect(category('type-of-benefit')).toMatchObject({ confidential: true, special: true });
    expect(register.dataCategories.filter((c) => c.special).map((c) => c.id)).toEqual(['transaction-history', 'type-of-benefit']);
    expect(register.dataCategories.filter((c) => c.confidential).map((c) => c.id)).toEqual(['cpr-number', 'transaction-history', 'type-of-benefit']);
  });

  it('records MitID §4 mandatory/optional markers', () => {
    expect(['name', 'email-address', 'mobile-phone-number', 'address', 'alternative-address'].map((id) => category(id)?.requirement))
      .toEqual(['mandatory', 'optional', 'mandatory-for-app', 'automatic', 'optional']);
  });
});

describe('retention rules', () => {
  it('name every period the notices state', () => {
    const periods = register.retentionRules.map((r) => (r.period.kind === 'fixed' ? r.period.iso : r.period.kind === 'end-of-year-plus' ? `Y+${r.period.years}` : r.period.kind));
    expect([...new Set(periods)].sort()).toEqual(['P180D', 'P1D', 'P30D', 'P5Y', 'P6M', 'P90D', 'PT1H', 'Y+10', 'archived', 'not-retained', 'not-stated', 'while-necessary']);
    expect(rule('mitid-verification-danish-passport-1-hour').period).toEqual({ kind: 'fixed', iso: 'PT1H' });
    expect(rule('mitid-support-statistics-5-years').categoryIds).toEqual(['support-statistics-anonymised']);
    expect(rule('nemkonto-account-end-of-year-plus-10').period).toEqual({ kind: 'end-of-year-plus', years: 10 });
    expect(rule('mitid-core-while-necessary').period).toEqual({ kind: 'while-necessary' });
  });

  it('retentionDeadline: 30 days, 1 hour, 1 day, 6 months, 5 years', () => {
    const at = new Date('2026-03-05T10:15:00.000Z');
    expect(retentionDeadline(rule('mitid-support-call-recording-30-days'), at)?.toISOString()).toBe('2026-04-04T10:15:00.000Z');
    expect(retentionDeadline(rule('mitid-verification-danish-passport-1-hour'), at)?.toISOString()).toBe('2026-03-05T11:15:00.000Z');
    expect(retentionDeadline(rule('mitid-verification-1-day'), at)?.toISOString()).toBe('2026-03-06T10:15:00.000Z');
    expect(retentionDeadline(rule('nemkonto-support-written-inquiries-6-months'), at)?.toISOString()).toBe('2026-09-05T10:15:00.000Z');
    expect(retentionDeadline(rule('mitid-support-statistics-5-years'), at)?.toISOString()).toBe('2031-03-05T10:15:00.000Z');
    expect(retentionDeadline({ kind: 'fixed', iso: 'P6M' }, new Date('2025-08-31T00:00:00Z'))?.toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });

  it('retentionDeadline: current year + 10 years ends at the first instant after 31 Dec of year+10 (UTC)', () => {
    const r = rule('nemkonto-account-end-of-year-plus-10');
    expect(retentionDeadline(r, new Date('2026-03-05T00:00:00Z'))?.toISOString()).toBe('2037-01-01T00:00:00.000Z');
    expect(retentionDeadline(r, new Date('2026-12-31T23:59:59.999Z'))?.toISOString()).toBe('2037-01-01T00:00:00.000Z');
    expect(retentionDeadline(r, new Date('2027-01-01T00:00:00Z'))?.toISOString()).toBe('2038-01-01T00:00:00.000Z');
  });

  it('retentionDeadline: no deadline while necessary, archived or not stated; never stored = the moment itself', () => {
    const at = new Date('2026-03-05T10:15:00Z');
    expect(retentionDeadline(rule('mitid-core-while-necessary'), at)).toBeNull();
    expect(retentionDeadline(rule('mitid-support-complaints-archived'), at)).toBeNull();
    expect(retentionDeadline(rule('nemkonto-support-screen-sharing-not-stated'), at)).toBeNull();
    expect(retentionDeadline(rule('mitid-support-cpr-not-retained'), at)?.toISOString()).toBe('2026-03-05T10:15:00.000Z');
    expect(() => retentionDeadline(rule('mitid-verification-1-day'), new Date('nope'))).toThrow(RangeError);
  });

  it('describeRetention says it in words', () => {
    expect(describeRetention(rule('mitid-support-call-recording-30-days'))).toBe('deleted after 30 days');
    expect(describeRetention(rule('mitid-verification-danish-passport-1-hour'))).toBe('deleted after 1 hour');
    expect(describeRetention(rule('mitid-support-live-chat-6-months'))).toBe('deleted after 6 months');
    expect(describeRetention(rule('nemkonto-account-end-of-year-plus-10'))).toBe('deleted after the end of the current year plus 10 years');
    expect(describeRetention(rule('mitid-core-while-necessary'))).toBe('kept as long as necessary for the purpose');
    expect(describeRetention({ kind: 'fixed', iso: 'P1Y6M' })).toBe('deleted after 1 year and 6 months');
  });

  it('parseIsoDuration accepts durations and rejects the rest', () => {
    expect(parseIsoDuration('PT1H')).toEqual({ years: 0, months: 0, weeks: 0, days: 0, hours: 1, minutes: 0, seconds: 0 });
    expect(parseIsoDuration('P1Y2M3DT4H5M6S')).toEqual({ years: 1, months: 2, weeks: 0, days: 3, hours: 4, minutes: 5, seconds: 6 });
    for (const bad of ['P', 'PT', '30D', 'P-1D', 'P1DT', '']) expect(parseIsoDuration(bad)).toBeNull();
  });
});

describe('third countries, collection, rights', () => {
  it('MitID allows Greenland/Faroe Islands under SCC; NemKonto a foreign bank account on the citizen\'s request', () => {
    expect(register.thirdCountryRules.map((t) => [t.id, t.countries, t.safeguard, t.recipientIds ?? null])).toEqual([
      ['mitid-greenland-faroe-scc', ['GL', 'FO'], 'STANDARD_CONTRACTUAL_CLAUSES', null],
      ['nemkonto-foreign-bank-account', 'ANY', 'DATA_SUBJECT_REQUEST', ['citizens-bank', 'payment-processing-banks']],
    ]);
  });

  it('lists the sources of the data', () => {
    expect(register.collectionSources.map((c) => c.id)).toEqual(['citizen-service-or-bank', 'mitid-online-order', 'mitid-app', 'mitid-self-service', 'cpr-registry',
      'passport-driver-licence-registry', 'danish-address-registry', 'nemkonto-self-service', 'financial-institution', 'public-authority']);
    expect(register.collectionSources.find((c) => c.id === 'cpr-registry')?.activityIds).toEqual(['mitid-core', 'nemkonto-register']);
  });

  it('rightsFor: MitID has no portability (exercise of authority); consent withdrawal concerns support only', () => {
    const mitid = rightsFor('mitid');
    expect(mitid.map((r) => [r.right, r.status])).toEqual([['access', 'applicable'], ['rectification', 'applicable'], ['erasure', 'applicable'],
      ['restriction', 'applicable'], ['objection', 'applicable'], ['portability', 'not-applicable'], ['withdraw-consent', 'applicable']]);
    expect(mitid.find((r) => r.right === 'portability')?.reason).toBe('The processing takes place as part of the exercise of authority, which the data controller is required to by law.');
    expect(mitid.find((r) => r.right === 'withdraw-consent')?.activityIds).toEqual(['mitid-support']);
    expect(mitid.find((r) => r.right === 'access')?.channels).toContain('Self-service on MitID.dk, including an automatic GDPR report');
  });

  it('rightsFor: NemKonto does not mention portability', () => {
    const nk = rightsFor('nemkonto');
    expect(nk.map((r) => [r.right, r.status])).toEqual([['access', 'applicable'], ['rectification', 'applicable'], ['erasure', 'applicable'],
      ['restriction', 'applicable'], ['objection', 'applicable'], ['portability', 'not-stated'], ['withdraw-consent', 'applicable']]);
    expect(nk.find((r) => r.right === 'withdraw-consent')?.activityIds).toEqual(['nemkonto-support']);
    expect(rightsFor('passport')).toEqual([]);
  });
});
