import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  CONSENT_SCOPES,
  DATA_SUBJECT_RIGHT_KINDS,
  LANGS,
  RECIPIENT_ROLES,
  REGISTER_DIR,
  TRANSFER_SAFEGUARDS,
  registerFiles,
  registerWordIssues,
  registerWords,
  latestRegister,
  type WordKind,
} from '../src/index.ts';
import { runRegisterCli } from '../src/cli/register.ts';

const reg = latestRegister(registerFiles);
const versionsReg = registerFiles.versions.map((v) => v.file);

/** Every id and code the register uses, by kind. */
const used: [WordKind, string[]][] = [
  ['purpose', reg.purposes.map((p) => p.id)],
  ['category', reg.dataCategories.map((c) => c.id)],
  ['recipient', reg.recipients.map((r) => r.id)],
  ['activity', reg.activities.map((a) => a.id)],
  ['retentionRule', reg.retentionRules.map((r) => r.id)],
  ['thirdCountryRule', reg.thirdCountryRules.map((r) => r.id)],
  ['legalBasis', reg.legalBases.map((b) => b.id)],
  ['collectionSource', reg.collectionSources.map((s) => s.id)],
  ['rightEntry', reg.rights.map((r) => r.id)],
  ['role', [...RECIPIENT_ROLES]],
  ['safeguard', [...TRANSFER_SAFEGUARDS]],
  ['right', [...DATA_SUBJECT_RIGHT_KINDS]],
  ['consentScope', [...CONSENT_SCOPES]],
  ['country', reg.thirdCountryRules.flatMap((r) => (Array.isArray(r.countries) ? r.countries : []))],
];

describe('the register words (localisation)', () => {
  it('every id and code the register uses has words in both languages, and no word is the code itself', () => {
    const missing: string[] = [];
    for (const lang of LANGS) {
      const w = registerWords(registerFiles, lang);
      for (const [kind, ids] of used) for (const id of ids) if (!w.has(kind, id)) missing.push(`${lang} ${kind} ${id}`);
      const texts: [string, string][] = [
        ...reg.purposes.map((p) => [p.id, w.purpose(p.id)] as [string, string]),
        ...reg.dataCategories.map((c) => [c.id, w.category(c.id)] as [string, string]),
        ...reg.recipients.map((r) => [r.id, w.recipient(r.id)] as [string, string]),
        ...reg.activities.map((a) => [a.id, w.activity(a.id)] as [string, string]),
        ...reg.legalBases.map((b) => [b.id, w.legalBasis(b.id)] as [string, string]),
        ...reg.retentionRules.map((r) => [r.id, w.retention(r.id).text] as [string, string]),
        ...reg.retentionRules.map((r) => [r.id, w.retention(r.id).startsAt] as [string, string]),
        ...reg.collectionSources.map((s) => [s.id, w.collectionSource(s.id)] as [string, string]),
        ...RECIPIENT_ROLES.map((c) => [c, w.role(c)] as [string, string]),
        ...TRANSFER_SAFEGUARDS.map((c) => [c, w.safeguard(c)] as [string, string]),
        ...DATA_SUBJECT_RIGHT_KINDS.map((c) => [c, w.right(c)] as [string, string]),
        ...CONSENT_SCOPES.map((c) => [c, w.consentScope(c)] as [string, string]),
        ...reg.thirdCountryRules.map((r) => [r.id, w.thirdCountry(r.id).safeguard] as [string, string]),
      ];
      for (const [id, text] of texts) if (text === id || text.trim() === '') missing.push(`${lang} ${id}: "${text}"`);
      for (const r of reg.rights) expect(w.rightChannels(r.id)).toHaveLength(r.channels.length);
      for (const a of reg.activities) expect(w.dataSubjects(a.id)).toHaveLength(a.dataSubjects.length);
    }
    expect(missing).toEqual([]);
    expect(registerWordIssues(registerFiles)).toEqual([]);
  });

  it('speaks Danish in the public sector\'s own terms', () => {
    const da = registerWords(registerFiles, 'da');
    expect(da.role('PROCESSOR')).toBe('Databehandler');
    expect(da.role('SUB_PROCESSOR')).toBe('Underdatabehandler');
    expect(da.role('CONTROLLER')).toBe('Selvstændig dataansvarlig');
    expect(DATA_SUBJECT_RIGHT_KINDS.map((k) => da.right(k))).toEqual([
      'Ret til indsigt', 'Ret til berigtigelse', 'Ret til sletning', 'Ret til begrænsning af behandling', 'Ret til indsigelse', 'Ret til dataportabilitet', 'Ret til tilbagekaldelse af samtykke',
    ]);
    expect(da.country('GL')).toBe('Grønland');
    expect(da.country('FO')).toBe('Færøerne');
    expect(da.consentScope('CALL_ANALYSIS')).toBe('Analyse af dine optagede opkald');
    expect(da.legalBasis('GDPR_ART6_1_E')).toBe('Myndighedsudøvelse (almindelige personoplysninger) (Databeskyttelsesforordningens artikel 6, stk. 1, litra e)');
    expect(da.detailField('ipAddress')).toBe('IP-adresse');
    expect(da.detailField('someNewField')).toBe('Some new field'); // never camelCase, even unnamed
    // The MitID notice's own words on its safeguard (§6 cites Article 46, paragraph 1, litra c).
    expect(da.thirdCountry('mitid-greenland-faroe-scc')).toEqual({
      countries: 'Grønland og Færøerne',
      safeguard: 'Standardbestemmelser om databeskyttelse: standardbestemmelser om databeskyttelse efter databeskyttelsesforordningens artikel 46, stk. 1, litra c, som privatlivspolitikken henviser til',
      condition: 'MitID udstedt i Grønland eller på Færøerne',
    });
    expect(da.retention(reg.retentionRules.find((r) => r.period.kind === 'fixed' && r.period.iso === 'P30D')!.id)).toMatchObject({ period: 'slettes efter 30 dage', startsAt: 'opkaldet' });
  });

  it('automated decisions (Art. 15(1)(h)): neither notice says anything, and the page says so plainly', () => {
    const noticesText = ['mitid-1.6.txt', 'nemkonto.txt'].map((f) => readFileSync(new URL(`../src/register/notices/${f}`, import.meta.url), 'utf8'));
    for (const t of noticesText) expect(t).not.toMatch(/profiling|automated decision|automatic decision/i);
    for (const n of reg.notices) expect(n.automatedDecisions).toEqual({ status: 'not-stated' });
    expect(registerWords(registerFiles, 'da').automatedDecisions('mitid').text).toBe('Privatlivspolitikken siger intet om automatiske afgørelser, herunder profilering.');
    expect(registerWords(registerFiles, 'en').automatedDecisions('nemkonto').text).toBe('The privacy notice says nothing about automated decisions, including profiling.');
  });

  it('registerWordIssues names a code without words and a text without Danish', () => {
    const shared = { ...registerFiles.shared, roles: registerFiles.shared.roles.filter((r) => r.id !== 'SUB_PROCESSOR') };
    const mitid = structuredClone(versionsReg[0]!) as unknown as { purposes: { text: { en: string; da: string } }[] };
    mitid.purposes[0]!.text.da = ' ';
    const issues = registerWordIssues({ shared, versions: [{ path: 'mitid/1.6.yaml', file: mitid as never }, ...registerFiles.versions.slice(1)] });
    expect(issues).toEqual([
      { file: 'shared.yaml', path: '#/roles', message: 'role "SUB_PROCESSOR" has no words (name in en and da)' },
      { file: 'mitid/1.6.yaml', path: '#/purposes/0/text/da', message: 'no Danish text' },
    ]);
  });

  it('sporbar-register validate refuses a register with a term without words', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sporbar-words-'));
    cpSync(REGISTER_DIR, dir, { recursive: true });
    const shared = parse(readFileSync(join(dir, 'shared.yaml'), 'utf8')) as { consentScopes: { id: string }[] };
    shared.consentScopes = shared.consentScopes.filter((c) => c.id !== 'CALL_ANALYSIS');
    writeFileSync(join(dir, 'shared.yaml'), stringify(shared));
    const err: string[] = [];
    expect(runRegisterCli(['validate', dir], { out: () => {}, err: (l) => err.push(l) })).toBe(1);
    expect(err).toContain('✗ shared.yaml#/consentScopes: consent scope "CALL_ANALYSIS" has no words (name in en and da)');
  });
});
