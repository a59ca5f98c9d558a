import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { replay, storeLogSource, formatClassificationAudit } from '@sporbar/auditor';
import { fromPglite } from '@sporbar/projections';
import { createCodec, latestRegister, loadRegisterSource, registerFiles as packagedRegisterFiles, type RegisterFiles, type RegisterPublished } from '@sporbar/schemas';
import { embeddedConfigFromEnv } from '../src/config.ts';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/**
 * A notice of another authority, as files only (schemas/test/fixtures/register-other-authority: the packaged
 * register plus a FICTIONAL notice of a municipality that does not exist, "Borgerservice, Eksempelby Kommune",
 * with its own controller, DPO, activities, recipients, purposes, retention rules and notice text), loaded the
 * way a deployment loads it (SPORBAR_REGISTER_DIR), through the real SDK, ingest, projections and API in
 * process: its disclosures are classified by its notice, the report shows them under it, and the citizen page
 * names its controller, in Danish and in English. No code names the notice.
 */
const FIXTURE = fileURLToPath(new URL('../../../schemas/test/fixtures/register-other-authority/', import.meta.url));
const PACKAGED_TEXTS = fileURLToPath(new URL('../../../schemas/src/register/notices/', import.meta.url));
// The command a deployment runs (the @sporbar/schemas bin), as a process: its output and its exit code.
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const REGISTER_CLI = fileURLToPath(new URL('../../../node_modules/.bin/sporbar-register', import.meta.url));
const NOTICE = 'eksempelby-borgerservice';
const CPR = '040285-1234';
const AT = '2026-02-10T09:30:00Z';
const BEFORE_NOTICE = '2024-11-01T09:30:00Z';
let files: RegisterFiles;
let system: EmbeddedSystem;
const citizen = () => devToken({ role: 'citizen', sub: 'citizen-new-controller', cpr: CPR });
const get = (url: string, accept = 'application/json') => system.app.inject({ method: 'GET', url, headers: { accept, authorization: `Bearer ${citizen()}` } });

beforeAll(async () => {
  const config = embeddedConfigFromEnv({ SPORBAR_REGISTER_DIR: FIXTURE });
  files = await loadRegisterSource('sporbar (embedded)', config.registerDir);
  system = await startEmbeddedSystem({ registerFiles: files });
  const caseFiled = (recipient: string, at: string) =>
    system.producer.recordDisclosure({
      subject: { cpr: CPR },
      activity: 'eksempelby-case-handling',
      recipient: { id: recipient, role: 'PROCESSOR' },
      purpose: 'eksempelby-case-handling',
      legalBases: ['GDPR_ART6_1_E', 'DPA_S11_1'],
      dataCategories: ['name', 'cpr-number', 'written-inquiry'],
      occurredAt: new Date(at),
    });
  // Declared: the case system's processor, in the case-handling activity.
  await caseFiled('eksempel-sagssystem', AT);
  // Declared: the booking processor, in the booking activity.
  await system.producer.recordDisclosure({
    subject: { cpr: CPR },
    activity: 'eksempelby-appointment-booking',
    recipient: { id: 'eksempel-booking', role: 'PROCESSOR' },
    purpose: 'eksempelby-appointment-booking',
    legalBases: ['GDPR_ART6_1_E', 'DPA_S11_1'],
    dataCategories: ['name', 'mobile-phone-number'],
    occurredAt: new Date(AT),
  });
  // Undeclared: the booking processor is no recipient of case handling.
  await caseFiled('eksempel-booking', AT);
  // Before the notice took effect there was no notice: its activity is unknown then.
  await caseFiled('eksempel-sagssystem', BEFORE_NOTICE);
  await system.settle();
});
afterAll(async () => {
  await system?.close();
});

type Item = { recipientId: string; activity: string; occurredAt: string; classification: string; reasons: string[]; judgedBy: { notice: string; version: string | null; sha256: string; text: string } | null };

describe("another authority's notice, added as files only (SPORBAR_REGISTER_DIR)", () => {
  it('sporbar-register validate accepts the directory, every quote of the new notice found in its own text', () => {
    const r = spawnSync(TSX, [REGISTER_CLI, 'validate', FIXTURE, '--texts', PACKAGED_TEXTS, '--texts', `${FIXTURE}texts`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out).toContain(`✓ ${NOTICE}/1.0.yaml (${NOTICE} 1.0, from 2025-01-01T00:00:00+01:00)`);
    expect(out.at(-1)).toBe('✓ 3 notice version(s) valid');
  });

  it('the directory loads with the new notice beside the packaged ones, under its own controller', () => {
    expect(files.versions.map((v) => [v.path, v.file.controller.name])).toEqual([
      [`${NOTICE}/1.0.yaml`, 'Eksempelby Kommune'],
      ['mitid/1.6.yaml', 'Digitaliseringsstyrelsen'],
      ['nemkonto/unnumbered.yaml', 'Digitaliseringsstyrelsen'],
    ]);
    // The packaged notices are the packaged files, byte for byte.
    expect(files.versions.slice(1).map((v) => v.sha256)).toEqual(packagedRegisterFiles.versions.map((v) => v.sha256));
    const reg = latestRegister(files);
    expect(reg.controllers.map((c) => [c.id, c.cvr])).toEqual(expect.arrayContaining([['eksempelby-kommune', '12345678'], ['digst', '34051178']]));
    expect(reg.notices.find((n) => n.id === NOTICE)).toMatchObject({ controllerId: 'eksempelby-kommune', activityIds: ['eksempelby-case-handling', 'eksempelby-appointment-booking'] });
  });

  it("classifies its disclosures by its notice: a declared flow declared, an undeclared recipient undeclared, judged by the new notice's version", async () => {
    const res = await get('/v1/me/disclosures?limit=10');
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json() as { items: Item[] }).items;
    expect(items).toHaveLength(4);
    const v = files.versions.find((x) => x.file.notice === NOTICE)!;
    const judgedBy = { notice: NOTICE, version: '1.0', sha256: v.sha256, text: 'Privacy notice for Borgerservice, Eksempelby Kommune (fictional test fixture) version 1.0' };
    const at = (activity: string, recipient: string, when: string) => items.find((i) => i.activity === activity && i.recipientId === recipient && i.occurredAt === new Date(when).toISOString())!;
    expect(at('eksempelby-case-handling', 'eksempel-sagssystem', AT)).toMatchObject({ classification: 'declared', reasons: [], judgedBy });
    expect(at('eksempelby-appointment-booking', 'eksempel-booking', AT)).toMatchObject({ classification: 'declared', reasons: [], judgedBy });
    expect(at('eksempelby-case-handling', 'eksempel-booking', AT)).toMatchObject({ classification: 'undeclared', reasons: ['RECIPIENT_NOT_DECLARED'], judgedBy });
    // Before 1 January 2025 the notice was not in force: no notice declares the activity, none judged it.
    expect(at('eksempelby-case-handling', 'eksempel-sagssystem', BEFORE_NOTICE)).toMatchObject({ classification: 'undeclared', reasons: ['UNKNOWN_ACTIVITY', 'RECIPIENT_NOT_DECLARED', 'PURPOSE_NOT_DECLARED'], judgedBy: null });
  });

  it('the report shows the disclosures under the new notice, with its controller and DPO', async () => {
    const res = await get('/v1/me/report');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as {
      totalDisclosures: number;
      recipients: Array<{ recipient: { id: string; name: string; declaredInRegister: boolean }; activities: Array<{ id: string; name: string }>; disclosures: number; undeclared: number }>;
      notices: Array<{ id: string; title: string; version: string | null; controller: { name: string; nameDa: string; cvr: string }; dataProtectionOfficer: { email: string }; activities: Array<{ id: string; recipients: Array<{ id: string }> }> }>;
    };
    expect(report.totalDisclosures).toBe(4);
    const byRecipient = new Map(report.recipients.map((r) => [r.recipient.id, r]));
    expect(byRecipient.get('eksempel-sagssystem')).toMatchObject({ recipient: { name: 'Eksempel Sagssystem A/S (fictional)', declaredInRegister: true }, disclosures: 2, undeclared: 1, activities: [{ id: 'eksempelby-case-handling', name: 'Borgerservice case handling' }] });
    expect(byRecipient.get('eksempel-booking')).toMatchObject({ recipient: { name: 'Eksempel Booking ApS (fictional)' }, disclosures: 2, undeclared: 1 });
    // Only the notice that covers the subject's disclosures: the new one, not MitID or NemKonto.
    expect(report.notices.map((n) => n.id)).toEqual([NOTICE]);
    expect(report.notices[0]).toMatchObject({
      title: 'Privacy notice for Borgerservice, Eksempelby Kommune (fictional test fixture)',
      version: '1.0',
      controller: { name: 'Eksempelby Municipality', nameDa: 'Eksempelby Kommune', cvr: '12345678' },
      dataProtectionOfficer: { email: 'dpo@eksempelby.example' },
    });
    expect(report.notices[0]!.activities.map((a) => [a.id, a.recipients.map((r) => r.id)])).toEqual([
      ['eksempelby-case-handling', ['eksempel-sagssystem', 'eksempelby-competent-authorities']],
      ['eksempelby-appointment-booking', ['eksempel-booking']],
    ]);
  });

  it('the citizen page names the new controller and the notice each disclosure was judged by, in Danish and in English', async () => {
    const da = await get('/v1/me/report?lang=da', 'text/html');
    expect(da.statusCode).toBe(200);
    expect(da.body).toContain('<h3>Dataansvarlig</h3>\n      <p>Eksempelby Kommune, CVR 12345678, Eksempelvej 1, 9999 Eksempelby');
    expect(da.body.match(/Vurderet efter Privatlivspolitik for Borgerservice, Eksempelby Kommune \(fiktiv testfixtur\) version 1\.0/g)).toHaveLength(3);
    // The Danish page names the recipient in Danish (the register's `da` text), the English one in English.
    expect(da.body).toContain('Eksempel Sagssystem A/S (fiktiv)');
    expect(da.body).not.toContain('Eksempel Sagssystem A/S (fictional)');
    expect(da.body).not.toContain('Digitaliseringsstyrelsen');
    const en = await get('/v1/me/report?lang=en', 'text/html');
    expect(en.statusCode).toBe(200);
    expect(en.body).toContain('<h3>Data controller</h3>\n      <p>Eksempelby Municipality, CVR 12345678, Eksempelvej 1, 9999 Eksempelby');
    expect(en.body.match(/Judged by Privacy notice for Borgerservice, Eksempelby Kommune \(fictional test fixture\) version 1\.0/g)).toHaveLength(3);
    expect(en.body).not.toContain('Digital Government');
    expect(en.body).toContain('Eksempel Sagssystem A/S (fictional)');
  });

  it("the log publishes the new notice's version with its controller, and the auditor's replay reproduces every classification", async () => {
    const codec = createCodec();
    const published: RegisterPublished[] = [];
    for await (const e of system.store.readStream('processing-register')) published.push(codec.decode(e.data).event as RegisterPublished);
    expect(published.find((p) => p.notice === NOTICE)).toMatchObject({ path: `${NOTICE}/1.0.yaml`, version: '1.0', controllerName: 'Eksempelby Kommune', controllerCvr: '12345678' });
    expect(published).toHaveLength(3);

    const scratch = await PGlite.create();
    try {
      const r = await replay({ source: storeLogSource(system.store), codec: createCodec(), into: fromPglite(scratch), at: { head: true }, register: files });
      expect(r.classification, formatClassificationAudit(r.classification)).toMatchObject({ checked: 4, findings: [], truncated: false });
    } finally {
      await scratch.close();
    }
  });
});
