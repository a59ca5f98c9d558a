import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REGISTER_DIR, diffRegisters, type RegisterChange } from '../src/index.ts';
import { readRegisterDir } from '../src/register/register-yaml.ts';
import { runRegisterCli } from '../src/cli/register.ts';

// The real register, copied into a temp directory and edited as YAML, is the fixture: every change
// below is one a DPO would make to a notice file.
const tmp = mkdtempSync(join(tmpdir(), 'sporbar-register-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const copyOfRegister = (name: string): string => {
  const dir = join(tmp, name);
  cpSync(REGISTER_DIR, dir, { recursive: true });
  return dir;
};
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
const edit = (dir: string, file: string, change: (doc: Doc) => void, to = file): void => {
  const doc = parse(readFileSync(join(dir, file), 'utf8')) as Doc;
  change(doc);
  writeFileSync(join(dir, to), stringify(doc, { aliasDuplicateObjects: false }));
};
const byId = (xs: Doc[], id: string): Doc => {
  const x = xs.find((i) => i.id === id);
  if (x === undefined) throw new Error(`no ${id} in the fixture`);
  return x;
};
const run = (...argv: string[]): { code: number; out: string[]; err: string[] } => {
  const out: string[] = [];
  const err: string[] = [];
  const code = runRegisterCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
};
const kinds = (cs: readonly RegisterChange[]): string[] => cs.map((c) => c.kind);

describe('diffRegisters', () => {
  it('finds nothing between a register and a copy of it (anchors expanded, keys reordered by the YAML writer)', () => {
    const dir = copyOfRegister('same');
    edit(dir, 'mitid/1.6.yaml', () => undefined);
    const d = diffRegisters(readRegisterDir(REGISTER_DIR), readRegisterDir(dir));
    expect(d.changes).toEqual([]);
    expect(d.same).toBe(true);
    expect(d.comparisons.map((c) => [c.old, c.new, c.changes])).toEqual([['mitid/1.6.yaml', 'mitid/1.6.yaml', 0], ['nemkonto/unnumbered.yaml', 'nemkonto/unnumbered.yaml', 0]]);
  });

  it('names a changed recipient, a removed purpose, a new retention period and a new category in a flow, in one version edited in place', () => {
    const dir = copyOfRegister('in-place');
    edit(dir, 'mitid/1.6.yaml', (doc) => {
      const akamai = byId(doc.recipients, 'akamai-denmark');
      akamai.name.en = 'Akamai Denmark ApS';
      akamai.role = 'PROCESSOR';
      doc.purposes = (doc.purposes as Doc[]).filter((p) => p.id !== 'mitid-support-statistics');
      const support = byId(doc.activities, 'mitid-support');
      support.purposeIds = (support.purposeIds as string[]).filter((p) => p !== 'mitid-support-statistics');
      byId(doc.retentionRules, 'mitid-verification-1-day').period = { kind: 'fixed', iso: 'P2D' };
      doc.dataCategories.push({ id: 'device-fingerprint', name: { en: 'Device fingerprint', da: 'Enhedsfingeraftryk' }, text: { en: 'A hash of device properties.', da: 'En hash af enhedens egenskaber.' }, special: false, confidential: false, sources: [{ source: 'MitID §4', quote: 'device' }] });
      const core = byId(doc.activities, 'mitid-core');
      core.categoryIds = [...(core.categoryIds as string[]), 'device-fingerprint'];
      const flow = byId(core.flows, 'mitid-core-akamai-denmark');
      flow.categoryIds = [...(flow.categoryIds as string[]).filter((c) => c !== 'ip-geolocation'), 'device-fingerprint'];
    });
    const d = diffRegisters(readRegisterDir(REGISTER_DIR), readRegisterDir(dir));
    expect(d.same).toBe(false);
    expect(d.changes.every((c) => c.notice === 'mitid' && c.version === '1.6' && c.file === 'mitid/1.6.yaml')).toBe(true);
    expect(kinds(d.changes).sort()).toEqual(['activity-changed', 'activity-changed', 'category-added', 'flow-categories-changed', 'purpose-removed', 'recipient-renamed', 'recipient-role-changed', 'retention-changed'].sort());
    const text = d.changes.map((c) => c.text);
    expect(text).toContain("MitID 1.6: recipient akamai-denmark renamed: 'Akamai Technologies Denmark ApS' → 'Akamai Denmark ApS'");
    expect(text).toContain("MitID 1.6: recipient 'Akamai Denmark ApS' (akamai-denmark) changed role: CONTROLLER → PROCESSOR");
    expect(text).toContain("MitID 1.6: purpose mitid-support-statistics removed (was 'Statistics on support contacts, kept in anonymised form.')");
    expect(text).toContain("MitID 1.6: data category 'Device fingerprint' (device-fingerprint) added: A hash of device properties.");
    expect(text).toContain(
      "MitID 1.6: recipient 'Akamai Denmark ApS' (akamai-denmark) in activity 'MitID issuance, administration and use' (mitid-core) (flow mitid-core-akamai-denmark) now also receives: Device fingerprint; no longer receives: Geographic location from IP",
    );
    const retention = d.changes.find((c) => c.kind === 'retention-changed')!;
    expect(retention).toMatchObject({ id: 'mitid-verification-1-day', fields: { period: [{ kind: 'fixed', iso: 'P1D' }, { kind: 'fixed', iso: 'P2D' }] } });
    expect(retention.text).toMatch(/^MitID 1\.6: retention rule mitid-verification-1-day for .* in mitid-identity-verification changed: period deleted after 1 day → deleted after 2 days$/);
    const flow = d.changes.find((c) => c.kind === 'flow-categories-changed')!;
    expect(flow).toMatchObject({ activity: 'mitid-core', flow: 'mitid-core-akamai-denmark', id: 'akamai-denmark', added: ['device-fingerprint'], removed: ['ip-geolocation'] });
    const support = d.changes.find((c) => c.kind === 'activity-changed' && c.activity === 'mitid-support')!;
    expect(support).toMatchObject({ removed: ['mitid-support-statistics'] });
  });

  it('compares a new version with its predecessor: a recipient dropped, another added, the old version given an end', () => {
    const dir = copyOfRegister('new-version');
    edit(dir, 'mitid/1.6.yaml', (doc) => {
      doc.effective.to = '2027-01-01T00:00:00+01:00';
    });
    edit(dir, 'mitid/1.6.yaml', (doc) => {
      doc.version = '1.7';
      doc.effective = { from: '2027-01-01T00:00:00+01:00' };
      doc.recipients = (doc.recipients as Doc[]).filter((r) => r.id !== 'akamai-denmark');
      doc.recipients.push({ id: 'cloudflare', name: { en: 'Cloudflare Denmark ApS', da: 'Cloudflare Denmark ApS' }, role: 'PROCESSOR', isCategory: false, text: { en: 'Filters web traffic.', da: 'Filtrerer webtrafik.' }, sources: [{ source: 'MitID §5', quote: 'Cloudflare' }] });
      const core = byId(doc.activities, 'mitid-core');
      const akamai = byId(core.flows, 'mitid-core-akamai-denmark');
      core.flows = (core.flows as Doc[]).filter((f) => f.id !== 'mitid-core-akamai-denmark');
      core.flows.push({ ...akamai, id: 'mitid-core-cloudflare', recipientId: 'cloudflare', roles: ['PROCESSOR'], categoryIds: ['ip-address', 'visited-urls'] });
    }, 'mitid/1.7.yaml');
    const d = diffRegisters(readRegisterDir(REGISTER_DIR), readRegisterDir(dir));
    expect(d.comparisons.map((c) => [c.old, c.new])).toEqual([['mitid/1.6.yaml', 'mitid/1.6.yaml'], ['mitid/1.6.yaml', 'mitid/1.7.yaml'], ['nemkonto/unnumbered.yaml', 'nemkonto/unnumbered.yaml']]);
    const on16 = d.changes.filter((c) => c.file === 'mitid/1.6.yaml');
    expect(on16.map((c) => c.text)).toEqual(['MitID 1.6: now in force from 2024-01-01T00:00:00+01:00 to 2027-01-01T00:00:00+01:00 (was from 2024-01-01T00:00:00+01:00 until further notice)']);
    const on17 = d.changes.filter((c) => c.file === 'mitid/1.7.yaml');
    expect(on17.every((c) => c.notice === 'mitid' && c.version === '1.7')).toBe(true);
    expect(kinds(on17)).toEqual(['version-added', 'recipient-added', 'recipient-removed', 'flow-added', 'flow-removed']);
    expect(on17.map((c) => c.text)).toEqual([
      'MitID 1.7: new version (mitid/1.7.yaml), in force from 2027-01-01T00:00:00+01:00 until further notice; compared with MitID 1.6 (mitid/1.6.yaml), in force from 2024-01-01T00:00:00+01:00 until further notice',
      "MitID 1.7: recipient 'Cloudflare Denmark ApS' (cloudflare, PROCESSOR) added: Filters web traffic.",
      "MitID 1.7: recipient 'Akamai Technologies Denmark ApS' (akamai-denmark) is no longer named in the notice",
      "MitID 1.7: recipient 'Cloudflare Denmark ApS' (cloudflare) receives, in activity 'MitID issuance, administration and use' (mitid-core): IP address, Visited URLs (flow mitid-core-cloudflare → cloudflare added; as PROCESSOR; purposes mitid-traffic-security-analysis; legal bases MITID_ACT_783_2021, GDPR_ART6_1_E)",
      "MitID 1.7: recipient 'Akamai Technologies Denmark ApS' (akamai-denmark) no longer receives data in activity 'MitID issuance, administration and use' (mitid-core) (flow mitid-core-akamai-denmark → akamai-denmark removed; it received: IP address, Visited URLs, Geographic location from IP, Browser version, Operating system version)",
    ]);
    expect(on17.find((c) => c.kind === 'flow-removed')).toMatchObject({ activity: 'mitid-core', flow: 'mitid-core-akamai-denmark', id: 'akamai-denmark' });

    // And back: the version only the old directory has is removed.
    const back = diffRegisters(readRegisterDir(dir), readRegisterDir(REGISTER_DIR));
    expect(back.changes.find((c) => c.kind === 'version-removed')?.text).toBe('MitID 1.7: version removed (mitid/1.7.yaml, was in force from 2027-01-01T00:00:00+01:00 until further notice)');
  });

  it('names changed legal bases and consent of a flow, a third-country rule, the controller and a new notice', () => {
    const dir = copyOfRegister('nemkonto');
    edit(dir, 'nemkonto/unnumbered.yaml', (doc) => {
      doc.controller.dpo.email = 'privacy@digst.dk';
      const register = byId(doc.activities, 'nemkonto-register');
      const kmd = byId(register.flows, 'nemkonto-register-kmd');
      kmd.legalBases = (kmd.legalBases as string[]).filter((b) => b !== 'DPA_S11_1');
      const support = byId(doc.activities, 'nemkonto-support');
      const recorded = (support.flows as Doc[]).find((f) => (f.consentScopes as string[]).includes('CALL_RECORDING'))!;
      recorded.consentScopes = ['CALL_RECORDING', 'SCREEN_SHARING'];
      byId(doc.thirdCountryRules, 'nemkonto-foreign-bank-account').safeguard = 'STANDARD_CONTRACTUAL_CLAUSES';
    });
    const d = diffRegisters(readRegisterDir(REGISTER_DIR), readRegisterDir(dir));
    const text = d.changes.map((c) => c.text);
    expect(text).toContain("NemKonto (unnumbered): controller 'The Danish Agency for Digital Government' (digst) changed: DPO email 'dpo@digst.dk' → 'privacy@digst.dk'");
    expect(text).toContain("NemKonto (unnumbered): recipient 'KMD A/S' (kmd) in activity 'NemKonto register' (nemkonto-register) (flow nemkonto-register-kmd): legal bases removed: DPA_S11_1");
    expect(d.changes.find((c) => c.kind === 'flow-consent-changed')).toMatchObject({ activity: 'nemkonto-support', added: ['SCREEN_SHARING'], removed: [] });
    expect(d.changes.find((c) => c.kind === 'transfer-changed')).toMatchObject({ id: 'nemkonto-foreign-bank-account', fields: { safeguard: ['DATA_SUBJECT_REQUEST', 'STANDARD_CONTRACTUAL_CLAUSES'] } });

    // A notice with no earlier version: everything in it is new.
    const fresh = copyOfRegister('fresh');
    rmSync(join(fresh, 'nemkonto'), { recursive: true });
    const added = diffRegisters(readRegisterDir(fresh), readRegisterDir(REGISTER_DIR)).changes.filter((c) => c.notice === 'nemkonto');
    expect(added[0]?.text).toBe('NemKonto (unnumbered): new notice (nemkonto/unnumbered.yaml), in force from 2023-05-04T00:00:00+02:00 until further notice; everything in it is new');
    expect(added.filter((c) => c.kind === 'activity-added').map((c) => c.activity)).toEqual(['nemkonto-register', 'nemkonto-support']);
    expect(added.some((c) => c.kind === 'flow-added' && c.flow === 'nemkonto-register-kmd')).toBe(true);
  });
});

describe('sporbar-register diff', () => {
  it('prints the sentences under one heading per version, exits 0, or 1 with --exit-code; --json for tools', () => {
    const dir = copyOfRegister('cli');
    edit(dir, 'mitid/1.6.yaml', (doc) => {
      byId(doc.retentionRules, 'mitid-verification-1-day').period = { kind: 'fixed', iso: 'P2D' };
    });
    const r = run('diff', REGISTER_DIR, dir);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('MitID 1.6 (mitid/1.6.yaml → mitid/1.6.yaml):');
    expect(r.out[1]).toMatch(/^ {2}- MitID 1\.6: retention rule mitid-verification-1-day .* period deleted after 1 day → deleted after 2 days$/);
    expect(r.out.at(-1)).toBe('1 difference(s) in 1 notice version(s)');
    expect(run('diff', REGISTER_DIR, dir, '--exit-code').code).toBe(1);
    expect(run('diff', REGISTER_DIR, REGISTER_DIR, '--exit-code')).toEqual({ code: 0, out: [`no differences between ${REGISTER_DIR} and ${REGISTER_DIR}`], err: [] });

    const json = run('diff', REGISTER_DIR, dir, '--json');
    const parsed = JSON.parse(json.out.join('\n')) as { same: boolean; changes: RegisterChange[] };
    expect(parsed.same).toBe(false);
    expect(parsed.changes).toHaveLength(1);
    expect(parsed.changes[0]).toMatchObject({ notice: 'mitid', version: '1.6', file: 'mitid/1.6.yaml', kind: 'retention-changed', id: 'mitid-verification-1-day' });
  });

  it('exits 2 on a directory that does not load, naming its problem, and on bad usage', () => {
    const dir = copyOfRegister('broken');
    const file = join(dir, 'mitid/1.6.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('role: CONTROLLER', 'role: OWNER'));
    const r = run('diff', REGISTER_DIR, dir);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(/^✗ .*broken: mitid\/1\.6\.yaml#\/recipients\/\d+\/role: must be equal to one of the allowed values/);
    expect(run('diff', REGISTER_DIR).code).toBe(2);
    expect(run('diff', REGISTER_DIR, dir, dir).code).toBe(2);
    expect(run('validate', REGISTER_DIR, '--json').code).toBe(2);
    expect(run('diff', join(tmp, 'nowhere'), REGISTER_DIR)).toMatchObject({ code: 2, err: [`✗ ${join(tmp, 'nowhere')}: no such directory`] });
  });
});
