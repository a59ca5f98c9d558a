import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isSporbarError } from '@sporbar/common/errors';
import {
  AUTOMATED_DECISIONS_STATUSES,
  DATA_SUBJECT_RIGHT_KINDS,
  composeRegister,
  ConsentScopeValues,
  LegalBasisValues,
  RecipientRoleValues,
  register,
  registerAt,
  registerFiles,
  registerJsonSchema,
  TransferSafeguardValues,
  validateRegister,
  versionsInForce,
  type ActivityEntry,
  type AutomatedDecisionsEntry,
  type ConsentScopeDef,
  type CountryDef,
  type DetailFieldDef,
  type RightDef,
  type RoleDef,
  type SafeguardDef,
  type CollectionSourceDef,
  type CollectionSourceEntry,
  type ComplaintAuthorityEntry,
  type ControllerEntry,
  type DataCategoryDef,
  type DataCategoryEntry,
  type EffectivePeriod,
  type FlowEntry,
  type LegalBasisDef,
  type LegalBasisEntry,
  type NoticeVersionFile,
  type PurposeEntry,
  type RecipientDef,
  type RecipientEntry,
  type RetentionRuleEntry,
  type RightEntry,
  type SharedFile,
  type Text,
  type ThirdCountryRuleEntry,
} from '../src/index.ts';
import { buildRegisterBundle, checkRegisterFiles, parseRegisterFiles, readRegisterTexts, registerBundleText, sha256Hex, type RegisterFileText } from '../src/register/register-yaml.ts';
import { REGISTER_BUNDLE_FILE, REGISTER_DIR, registerFilesFromBundle } from '../src/register/load-register.ts';

const texts = readRegisterTexts();
const MITID = 'mitid/1.6.yaml';
type Doc = Record<string, unknown> & { effective: Record<string, string>; recipients: Record<string, unknown>[]; activities: { flows: Record<string, unknown>[] }[] };
const mitidDoc = (): Doc => registerFiles.versions.find((v) => v.path === MITID)!.file as unknown as Doc;
const replace = (path: string, doc: unknown): RegisterFileText[] => texts.map((t) => (t.path === path ? { path, text: stringify(doc) } : t));
const problemsOf = (files: readonly RegisterFileText[]): string[] => checkRegisterFiles(files).problems.map((p) => `${p.file}${p.path}: ${p.message}`);

describe('the register files', () => {
  it('are shared.yaml and one file per notice version, each valid against the published schema', () => {
    expect(texts.map((t) => t.path)).toEqual(['mitid/1.6.yaml', 'nemkonto/unnumbered.yaml', 'shared.yaml']);
    expect(problemsOf(texts)).toEqual([]);
    expect(registerFiles.versions.map((v) => [v.file.notice, v.file.version, v.file.effective.from])).toEqual([
      ['mitid', '1.6', '2024-01-01T00:00:00+01:00'], ['nemkonto', null, '2023-05-04T00:00:00+02:00'],
    ]);
  });

  it('build exactly the register of the snapshot (register 1.0.0, taken before the move to files; English texts and new fields updated on purpose since)', () => {
    const snapshot: unknown = JSON.parse(readFileSync(new URL('fixtures/register-1.0.0.snapshot.json', import.meta.url), 'utf8'));
    expect(JSON.parse(JSON.stringify(register))).toEqual(snapshot);
  });

  it('reject what the schema forbids, naming file and place: an unknown field, a role outside the enum, a text without English', () => {
    const doc = structuredClone(mitidDoc());
    doc.recipients[0]!.colour = 'blue';
    doc.recipients[1]!.role = 'FRIEND';
    (doc.activities[0]!.flows[0]!.text as Record<string, unknown>) = { da: 'kun dansk' };
    const problems = problemsOf(replace(MITID, doc));
    expect(problems).toContain('mitid/1.6.yaml#/recipients/0: must NOT have additional properties (colour)');
    expect(problems.some((p) => p.startsWith('mitid/1.6.yaml#/recipients/1/role: must be equal to one of the allowed values'))).toBe(true);
    expect(problems).toContain("mitid/1.6.yaml#/activities/0/flows/0/text: must have required property 'en'");
    let thrown: unknown;
    try { parseRegisterFiles(replace(MITID, doc)); } catch (e) { thrown = e; }
    expect(isSporbarError(thrown, 'SPB_ERR_REGISTER_INVALID')).toBe(true);
  });

  it('reject a file filed under another notice, a period that ends before it starts, overlapping versions, broken YAML and a missing shared file', () => {
    const doc = mitidDoc();
    const later = { ...doc, version: '1.7', effective: { from: '2025-06-01T00:00:00+02:00' } };
    expect(problemsOf([...texts, { path: 'nemkonto/x.yaml', text: stringify(later) }])).toContain('nemkonto/x.yaml#/notice: notice "mitid" is filed under "nemkonto/"');
    expect(problemsOf([...texts, { path: 'mitid/1.7.yaml', text: stringify({ ...later, effective: { from: '2025-06-01T00:00:00Z', to: '2025-01-01T00:00:00Z' } }) }]))
      .toContain('mitid/1.7.yaml#/effective: the period ends before it starts');
    expect(problemsOf([...texts, { path: 'mitid/1.7.yaml', text: stringify(later) }])).toEqual([
      'mitid/1.7.yaml#/effective/from: overlaps mitid/1.6.yaml, in force until further notice',
    ]);
    expect(problemsOf([{ path: 'mitid/1.6.yaml', text: 'notice: [' }])).toEqual([expect.stringMatching(/^mitid\/1\.6\.yaml: not YAML: /), 'shared.yaml: missing']);
  });
});

describe('the generated bundle (what the package loads at run time)', () => {
  it('is the YAML files as parsed, with the SHA-256 of each file: npm run register:bundle -w @sporbar/schemas rewrites it', () => {
    const committed = readFileSync(new URL(REGISTER_BUNDLE_FILE, `file://${REGISTER_DIR}`), 'utf8');
    expect(committed).toBe(registerBundleText(buildRegisterBundle(texts)));
    expect(registerFiles.versions.map((v) => v.sha256)).toEqual(registerFiles.versions.map((v) => sha256Hex(texts.find((t) => t.path === v.path)!.text)));
    expect(registerFiles.sharedSha256).toBe(sha256Hex(texts.find((t) => t.path === 'shared.yaml')!.text));
  });

  it('gives the same register files as the YAML path, and its layout is checked at load', () => {
    expect(registerFiles).toEqual(parseRegisterFiles(texts));
    const bundle = buildRegisterBundle(texts);
    const moved = { ...bundle, files: bundle.files.map((f) => (f.path === MITID ? { ...f, path: 'nemkonto/1.6.yaml' } : f)) };
    expect(() => registerFilesFromBundle(moved)).toThrow('nemkonto/1.6.yaml#/notice: notice "mitid" is filed under "nemkonto/"');
  });
});

describe('composition', () => {
  const shared = registerFiles.shared;
  const files = registerFiles.versions.map((v) => v.file);

  it('merges an item several notices name: quotes concatenated in notice order, ids united, the rest equal', () => {
    const dba = register.recipients.find((r) => r.id === 'danish-business-authority')!;
    expect(dba.sources.map((s) => s.source)).toEqual(['MitID §5', 'NemKonto: support']);
    const cpr = register.collectionSources.find((c) => c.id === 'cpr-registry')!;
    expect(cpr.activityIds).toEqual(['mitid-core', 'nemkonto-register']);
    expect(register.dataCategories.find((c) => c.id === 'name')!.noticeIds).toEqual(['mitid', 'nemkonto']);
  });

  it('throws when two notices disagree about a shared item', () => {
    const [mitid, nemkonto] = files as [NoticeVersionFile, NoticeVersionFile];
    const other = { ...nemkonto, controller: { ...nemkonto.controller, cvr: '12345678' } };
    expect(() => composeRegister(shared, [mitid, other])).toThrow(/register files disagree on controller "digst"\.cvr: "34051178" vs "12345678"/);
  });

  it('throws when an item a notice names is defined nowhere, and when one notice comes twice', () => {
    const [mitid] = files as [NoticeVersionFile];
    const orphan = { ...mitid, recipients: [...mitid.recipients, { id: 'nobody', sources: mitid.sources }] };
    expect(() => composeRegister(shared, [orphan])).toThrow('recipient "nobody" has no name, role, isCategory, text in any register file');
    expect(() => composeRegister(shared, [mitid, mitid])).toThrow('two versions of notice "mitid" composed into one register');
  });
});

describe('registerAt: the versions in force at an instant', () => {
  it('before the MitID notice took effect only NemKonto is in force, and the register of that instant validates', () => {
    const at = new Date('2023-09-01T12:00:00Z');
    expect(versionsInForce(registerFiles, at).map((v) => v.path)).toEqual(['nemkonto/unnumbered.yaml']);
    const reg = registerAt(registerFiles, at);
    expect(reg.notices.map((n) => n.id)).toEqual(['nemkonto']);
    expect(reg.activities.map((a) => a.id)).toEqual(['nemkonto-register', 'nemkonto-support']);
    expect(reg.legalBases.find((b) => b.id === 'MITID_ACT_783_2021')).toMatchObject({ declarable: true, sources: [] }); // defined, not quoted
    expect(reg.controllers[0]!.dpo.digitalPost).toBeUndefined(); // only the MitID notice states it
    expect(registerAt(registerFiles, new Date('2023-01-01T00:00:00Z')).notices).toEqual([]);
  });

  it('a legal basis an activity in force declares still needs a quote', () => {
    const unquoted = { ...register, legalBases: register.legalBases.map((b) => (b.id === 'MITID_ACT_783_2021' ? { ...b, sources: [] } : b)) };
    expect(validateRegister(unquoted)).toEqual([{ code: 'MISSING_SOURCE', path: 'legalBases[3].sources', message: 'legal basis MITID_ACT_783_2021 has no source' }]);
  });

  it('a second MitID version with another recipient is chosen by its effective period, boundaries included', () => {
    const v16 = mitidDoc();
    const akamai = v16.recipients.find((r) => r.id === 'akamai-denmark')!;
    const v17 = structuredClone(v16);
    v17.version = '1.7';
    v17.effective = { from: '2025-06-01T00:00:00+02:00' };
    v17.recipients = v17.recipients.map((r) => (r.id === 'akamai-denmark' ? { ...akamai, id: 'cloudflare-denmark', name: { en: 'Cloudflare Denmark', da: 'Cloudflare Denmark' }, cvr: undefined } : r))
      .map((r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
    for (const a of v17.activities) for (const f of a.flows) if (f.recipientId === 'akamai-denmark') { f.recipientId = 'cloudflare-denmark'; f.id = 'mitid-core-cloudflare-denmark'; }
    const closed = { ...v16, effective: { ...v16.effective, to: '2025-06-01T00:00:00+02:00' } };
    const files = parseRegisterFiles([...replace(MITID, closed), { path: 'mitid/1.7.yaml', text: stringify(v17) }]);
    const recipientsAt = (iso: string): string[] => registerAt(files, new Date(iso)).recipients.map((r) => r.id).filter((id) => /akamai|cloudflare/.test(id));
    expect(recipientsAt('2025-05-31T21:59:59.999Z')).toEqual(['akamai-denmark']);
    expect(recipientsAt('2025-05-31T22:00:00.000Z')).toEqual(['cloudflare-denmark']);
    expect(registerAt(files, new Date('2026-01-01T00:00:00Z')).notices.find((n) => n.id === 'mitid')!.version).toBe('1.7');
  });
});

// ---------------------------------------------------------------------------------------------------
// The schema and the TypeScript types agree: for every $def, the property names and the required ones
// are exactly the keys (and required keys) of the type. `keysOf<T>()` only compiles with a complete list.
// ---------------------------------------------------------------------------------------------------
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
const keysOf = <T>() => <const L extends readonly (keyof T)[]>(list: L & ([Exclude<keyof T, L[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, L[number]> })) => list;
const requiredOf = <T>() => <const L extends readonly RequiredKeys<T>[]>(list: L & ([Exclude<RequiredKeys<T>, L[number]>] extends [never] ? unknown : { missing: Exclude<RequiredKeys<T>, L[number]> })) => list;
interface SchemaDef { properties: Record<string, unknown>; required: string[] }
const defs = registerJsonSchema.$defs as Record<string, SchemaDef>;
const root = registerJsonSchema as unknown as SchemaDef;
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

const VOCABULARIES = ['roles', 'safeguards', 'rights', 'consentScopes', 'countries', 'detailFields'] as const;

describe('the JSON Schema and the TypeScript types agree', () => {
  const cases: [string, SchemaDef, readonly string[], readonly string[]][] = [
    ['noticeVersion (root)', root,
      keysOf<NoticeVersionFile>()(['notice', 'version', 'effective', 'title', 'language', 'textFile', 'controller', 'complaintAuthority', 'thirdCountryPolicy', 'rightsCaveat', 'automatedDecisions', 'remarks', 'sources', 'legalBases', 'purposes', 'dataCategories', 'recipients', 'retentionRules', 'thirdCountryRules', 'collectionSources', 'rights', 'activities']),
      requiredOf<NoticeVersionFile>()(['notice', 'version', 'effective', 'title', 'language', 'textFile', 'controller', 'complaintAuthority', 'thirdCountryPolicy', 'rightsCaveat', 'automatedDecisions', 'remarks', 'sources', 'legalBases', 'purposes', 'dataCategories', 'recipients', 'retentionRules', 'thirdCountryRules', 'collectionSources', 'rights', 'activities'])],
    ['effectivePeriod', defs.effectivePeriod!, keysOf<EffectivePeriod>()(['from', 'to']), requiredOf<EffectivePeriod>()(['from'])],
    ['text', defs.text!, keysOf<Text>()(['en', 'da']), requiredOf<Text>()(['en', 'da'])],
    ['controller', defs.controller!, keysOf<ControllerEntry>()(['id', 'name', 'nameEn', 'cvr', 'address', 'phone', 'email', 'dpo', 'sources']),
      requiredOf<ControllerEntry>()(['id', 'name', 'nameEn', 'cvr', 'address', 'phone', 'email', 'dpo', 'sources'])],
    ['controller.dpo', defs.controller!.properties.dpo as SchemaDef, keysOf<ControllerEntry['dpo']>()(['appointedBy', 'email', 'emailCaution', 'postal', 'digitalPost', 'sources']),
      requiredOf<ControllerEntry['dpo']>()(['appointedBy', 'email', 'emailCaution', 'postal', 'sources'])],
    ['complaintAuthority', defs.complaintAuthority!, keysOf<ComplaintAuthorityEntry>()(['id', 'name', 'nameEn', 'website', 'sources']),
      requiredOf<ComplaintAuthorityEntry>()(['id', 'name', 'nameEn', 'website', 'sources'])],
    ['legalBasisEntry', defs.legalBasisEntry!, keysOf<LegalBasisEntry>()(['id', 'sources']), requiredOf<LegalBasisEntry>()(['id', 'sources'])],
    ['purposeEntry', defs.purposeEntry!, keysOf<PurposeEntry>()(['id', 'text', 'sources']), requiredOf<PurposeEntry>()(['id', 'text', 'sources'])],
    ['dataCategoryEntry', defs.dataCategoryEntry!,
      keysOf<DataCategoryEntry>()(['id', 'name', 'text', 'special', 'confidential', 'requiredLegalBasis', 'anonymised', 'requirement', 'sources']),
      requiredOf<DataCategoryEntry>()(['id', 'sources'])],
    ['recipientEntry', defs.recipientEntry!, keysOf<RecipientEntry>()(['id', 'name', 'role', 'roleNote', 'cvr', 'isCategory', 'text', 'sources']),
      requiredOf<RecipientEntry>()(['id', 'sources'])],
    ['retentionRuleEntry', defs.retentionRuleEntry!,
      keysOf<RetentionRuleEntry>()(['id', 'activityIds', 'categoryIds', 'period', 'condition', 'startsAt', 'text', 'sources']),
      requiredOf<RetentionRuleEntry>()(['id', 'activityIds', 'categoryIds', 'period', 'startsAt', 'text', 'sources'])],
    ['thirdCountryRuleEntry', defs.thirdCountryRuleEntry!,
      keysOf<ThirdCountryRuleEntry>()(['id', 'activityIds', 'countries', 'safeguard', 'safeguardText', 'recipientIds', 'condition', 'sources']),
      requiredOf<ThirdCountryRuleEntry>()(['id', 'activityIds', 'countries', 'safeguard', 'condition', 'sources'])],
    ['collectionSourceEntry', defs.collectionSourceEntry!,
      keysOf<CollectionSourceEntry>()(['id', 'name', 'kind', 'activityIds', 'categoryIds', 'text', 'sources']),
      requiredOf<CollectionSourceEntry>()(['id', 'activityIds', 'categoryIds', 'sources'])],
    ['rightEntry', defs.rightEntry!, keysOf<RightEntry>()(['id', 'right', 'status', 'reason', 'activityIds', 'channels', 'sources']),
      requiredOf<RightEntry>()(['id', 'right', 'status', 'activityIds', 'channels', 'sources'])],
    ['flowEntry', defs.flowEntry!,
      keysOf<FlowEntry>()(['id', 'recipientId', 'roles', 'purposeIds', 'legalBases', 'categoryIds', 'categoriesBasis', 'consentScopes', 'retentionRuleIds', 'text', 'sources']),
      requiredOf<FlowEntry>()(['id', 'recipientId', 'roles', 'purposeIds', 'legalBases', 'categoryIds', 'categoriesBasis', 'consentScopes', 'retentionRuleIds', 'text', 'sources'])],
    ['activityEntry', defs.activityEntry!,
      keysOf<ActivityEntry>()(['id', 'name', 'text', 'dataSubjects', 'purposeIds', 'legalBases', 'categoryIds', 'retentionRuleIds', 'thirdCountryRuleIds', 'collectionSourceIds', 'flows', 'sources']),
      requiredOf<ActivityEntry>()(['id', 'name', 'text', 'dataSubjects', 'purposeIds', 'legalBases', 'categoryIds', 'retentionRuleIds', 'thirdCountryRuleIds', 'collectionSourceIds', 'flows', 'sources'])],
    ['sharedFile', defs.sharedFile!, keysOf<SharedFile>()(['registerVersion', 'legalBases', 'dataCategories', 'recipients', 'collectionSources', ...VOCABULARIES]),
      requiredOf<SharedFile>()(['registerVersion', 'legalBases', 'dataCategories', 'recipients', 'collectionSources', ...VOCABULARIES])],
    ['automatedDecisions', defs.automatedDecisions!, keysOf<AutomatedDecisionsEntry>()(['status', 'text', 'sources']), requiredOf<AutomatedDecisionsEntry>()(['status'])],
    ['roleDef', defs.roleDef!, keysOf<RoleDef>()(['id', 'name', 'text']), requiredOf<RoleDef>()(['id', 'name', 'text'])],
    ['safeguardDef', defs.safeguardDef!, keysOf<SafeguardDef>()(['id', 'name']), requiredOf<SafeguardDef>()(['id', 'name'])],
    ['rightDef', defs.rightDef!, keysOf<RightDef>()(['id', 'name', 'text']), requiredOf<RightDef>()(['id', 'name', 'text'])],
    ['consentScopeDef', defs.consentScopeDef!, keysOf<ConsentScopeDef>()(['id', 'name']), requiredOf<ConsentScopeDef>()(['id', 'name'])],
    ['countryDef', defs.countryDef!, keysOf<CountryDef>()(['id', 'name']), requiredOf<CountryDef>()(['id', 'name'])],
    ['detailFieldDef', defs.detailFieldDef!, keysOf<DetailFieldDef>()(['id', 'name']), requiredOf<DetailFieldDef>()(['id', 'name'])],
    ['legalBasisDef', defs.legalBasisDef!, keysOf<LegalBasisDef>()(['id', 'title', 'reference', 'declarable']), requiredOf<LegalBasisDef>()(['id', 'title', 'reference', 'declarable'])],
    ['dataCategoryDef', defs.dataCategoryDef!, keysOf<DataCategoryDef>()(['id', 'name', 'text', 'special', 'confidential', 'requiredLegalBasis', 'anonymised']),
      requiredOf<DataCategoryDef>()(['id', 'name', 'text', 'special', 'confidential'])],
    ['recipientDef', defs.recipientDef!, keysOf<RecipientDef>()(['id', 'name', 'role', 'roleNote', 'cvr', 'isCategory', 'text']),
      requiredOf<RecipientDef>()(['id', 'name', 'role', 'isCategory', 'text'])],
    ['collectionSourceDef', defs.collectionSourceDef!, keysOf<CollectionSourceDef>()(['id', 'name', 'kind', 'text']), requiredOf<CollectionSourceDef>()(['id', 'name', 'kind', 'text'])],
  ];

  it.each(cases)('%s: same properties, same required ones', (_name, def, keys, required) => {
    expect(sorted(Object.keys(def.properties))).toEqual(sorted(keys));
    expect(sorted(def.required)).toEqual(sorted(required));
  });

  it('the enums are the Avro enums of the event schemas', () => {
    const enumOf = (name: string): unknown => (defs[name] as unknown as { enum: string[] }).enum;
    expect(enumOf('legalBasis')).toEqual(LegalBasisValues);
    expect(enumOf('recipientRole')).toEqual(RecipientRoleValues);
    expect(enumOf('transferSafeguard')).toEqual(TransferSafeguardValues);
    expect(enumOf('consentScope')).toEqual(ConsentScopeValues);
    expect(enumOf('rightKind')).toEqual(DATA_SUBJECT_RIGHT_KINDS);
    expect((defs.automatedDecisions!.properties.status as { enum: string[] }).enum).toEqual(AUTOMATED_DECISIONS_STATUSES);
  });
});
