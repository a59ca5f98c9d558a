import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { replay, storeLogSource, formatClassificationAudit } from '@sporbar/auditor';
import { isSporbarError } from '@sporbar/common/errors';
import { fromPglite } from '@sporbar/projections';
import { createCodec, latestRegister, loadRegisterSource, registerFiles as packagedRegisterFiles, type RegisterFiles, type RegisterPublished } from '@sporbar/schemas';
import { embeddedConfigFromEnv } from '../src/config.ts';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/**
 * A second MitID version, as data only (schemas/test/fixtures/register-mitid-1.7: a fictional 1.7 from
 * 1 March 2026 in which Akamai Denmark is replaced by a fictional recipient), loaded the way a
 * deployment loads it (SPORBAR_REGISTER_DIR), through the real ingest, projections and API in process:
 * disclosures are judged by the version in force when they happened, the report names it, both
 * versions are published in the log, and the auditor's replay reproduces every classification.
 */
const FIXTURE = fileURLToPath(new URL('../../../schemas/test/fixtures/register-mitid-1.7/', import.meta.url));
const CPR = '150377-2814';
const BEFORE = '2026-02-27T10:00:00Z';
const AFTER = '2026-03-02T10:00:00Z';
let files: RegisterFiles;
let system: EmbeddedSystem;
const citizen = () => devToken({ role: 'citizen', sub: 'citizen-versions', cpr: CPR });
const get = (url: string, accept = 'application/json') => system.app.inject({ method: 'GET', url, headers: { accept, authorization: `Bearer ${citizen()}` } });
const work = mkdtempSync(join(tmpdir(), 'sporbar-register-versions-'));

beforeAll(async () => {
  const config = embeddedConfigFromEnv({ SPORBAR_REGISTER_DIR: FIXTURE });
  files = await loadRegisterSource('sporbar (embedded)', config.registerDir);
  system = await startEmbeddedSystem({ registerFiles: files });
  const web = (recipient: string, at: string) =>
    system.producer.recordDisclosure({
      subject: { cpr: CPR },
      activity: 'mitid-core',
      recipient: { id: recipient, role: 'CONTROLLER' },
      purpose: 'mitid-traffic-security-analysis',
      legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
      dataCategories: ['ip-address', 'visited-urls'],
      occurredAt: new Date(at),
    });
  await web('akamai-denmark', BEFORE);
  await web('example-cdn-denmark', BEFORE);
  await web('akamai-denmark', AFTER);
  await web('example-cdn-denmark', AFTER);
  await system.settle();
});
afterAll(async () => {
  await system?.close();
  rmSync(work, { recursive: true, force: true });
});

type Item = { recipientId: string; occurredAt: string; classification: string; reasons: string[]; judgedBy: { notice: string; version: string | null; sha256: string; text: string } | null };

describe('a second MitID version, loaded from files only (SPORBAR_REGISTER_DIR)', () => {
  it('the directory loads with both MitID versions, 1.6 closed where 1.7 begins', () => {
    expect(files.versions.map((v) => [v.path, v.file.effective.from, v.file.effective.to ?? null])).toEqual([
      ['mitid/1.6.yaml', '2024-01-01T00:00:00+01:00', '2026-03-01T00:00:00+01:00'],
      ['mitid/1.7.yaml', '2026-03-01T00:00:00+01:00', null],
      ['nemkonto/unnumbered.yaml', '2023-05-04T00:00:00+02:00', null],
    ]);
    // The packaged 1.6 and the fixture's 1.6 (with effective.to) are different files: different hashes.
    expect(files.versions[0]!.sha256).not.toBe(packagedRegisterFiles.versions[0]!.sha256);
    expect(latestRegister(files).recipients.some((r) => r.id === 'example-cdn-denmark')).toBe(true);
  });

  it('classifies each disclosure by the version in force when it happened: the changed recipient flips at 1 March 2026', async () => {
    const res = await get('/v1/me/disclosures?limit=10');
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json() as { items: Item[] }).items;
    const at = (recipient: string, when: string) => items.find((i) => i.recipientId === recipient && i.occurredAt === new Date(when).toISOString())!;
    const [v16, v17] = [files.versions[0]!, files.versions[1]!];
    expect(at('akamai-denmark', BEFORE)).toMatchObject({ classification: 'declared', judgedBy: { notice: 'mitid', version: '1.6', sha256: v16.sha256, text: 'Privacy notice for MitID version 1.6' } });
    expect(at('example-cdn-denmark', BEFORE)).toMatchObject({ classification: 'undeclared', reasons: ['RECIPIENT_NOT_DECLARED'], judgedBy: { version: '1.6' } });
    expect(at('akamai-denmark', AFTER)).toMatchObject({ classification: 'undeclared', reasons: ['RECIPIENT_NOT_DECLARED'], judgedBy: { notice: 'mitid', version: '1.7', sha256: v17.sha256 } });
    expect(at('example-cdn-denmark', AFTER)).toMatchObject({ classification: 'declared', judgedBy: { version: '1.7', text: 'Privacy notice for MitID version 1.7' } });
  });

  it('the citizen page names the version each disclosure was judged by, in Danish and in English', async () => {
    const da = await get('/v1/me/report?lang=da', 'text/html');
    expect(da.statusCode).toBe(200);
    expect(da.body.match(/Vurderet efter Privatlivspolitik for MitID version 1\.6/g)).toHaveLength(2);
    expect(da.body.match(/Vurderet efter Privatlivspolitik for MitID version 1\.7/g)).toHaveLength(2);
    const en = await get('/v1/me/report?lang=en', 'text/html');
    expect(en.body.match(/Judged by Privacy notice for MitID version 1\.7/g)).toHaveLength(2);
  });

  it('the log holds a RegisterPublished for every version (content hash of the file), once however often the ingest starts', async () => {
    const codec = createCodec();
    const published: RegisterPublished[] = [];
    for await (const e of system.store.readStream('processing-register')) published.push(codec.decode(e.data).event as RegisterPublished);
    expect(published.map((p) => [p.path, p.version, p.contentSha256, p.controllerName])).toEqual(
      files.versions.map((v) => [v.path, v.file.version, v.sha256, v.file.controller.name]),
    );
    expect(published.find((p) => p.version === '1.6')!.effectiveTo).toBe(Date.parse('2026-03-01T00:00:00+01:00') * 1000);
    expect(new Set(published.map((p) => p.sharedSha256))).toEqual(new Set([files.sharedSha256]));
    // A restart publishes again: the eventIds come from the hashes, so nothing new is stored.
    expect(await system.publishRegister()).toEqual({ published: [], alreadyInLog: files.versions.map((v) => v.path) });
    let again = 0;
    for await (const _ of system.store.readStream('processing-register')) again++;
    expect(again).toBe(3);
  });

  it("the auditor's replay judges every disclosure again by the version of its time and finds each stored classification, all versions published", async () => {
    const scratch = await PGlite.create();
    try {
      const r = await replay({ source: storeLogSource(system.store), codec: createCodec(), into: fromPglite(scratch), at: { head: true }, register: files });
      expect(r.classification, formatClassificationAudit(r.classification)).toMatchObject({ checked: 4, unnamed: 0, findings: [], truncated: false });
      expect(r.classification.published.map((p) => p.path)).toEqual(['mitid/1.6.yaml', 'mitid/1.7.yaml', 'nemkonto/unnumbered.yaml']);
      // The packaged register (1.6 still in force after 1 March, another 1.6 file) reproduces none of it: every disclosure is a finding.
      const other = await replay({ source: storeLogSource(system.store), codec: createCodec(), into: fromPglite(scratch), at: { head: true }, register: packagedRegisterFiles });
      expect(other.classification.findings.filter((f) => f.kind === 'differs')).toHaveLength(4);
      expect(other.classification.findings.filter((f) => f.kind === 'unpublished')).toHaveLength(0);
    } finally {
      await scratch.close();
    }
  });
});

describe('SPORBAR_REGISTER_DIR fails closed', () => {
  it('an invalid directory stops the start with SPB_ERR_CONFIG listing every problem', async () => {
    const dir = join(work, 'broken');
    cpSync(FIXTURE, dir, { recursive: true });
    const file = join(dir, 'mitid/1.7.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('from: 2026-03-01T00:00:00+01:00', 'from: 2025-03-01T00:00:00+01:00').replace('role: CONTROLLER', 'role: OWNER'));
    let thrown: unknown;
    try {
      await loadRegisterSource('sporbar (embedded)', dir);
    } catch (e) {
      thrown = e;
    }
    expect(isSporbarError(thrown, 'SPB_ERR_CONFIG')).toBe(true);
    const problems = (thrown as { details: { problems: Array<{ variable: string; problem: string }> } }).details.problems;
    expect(problems.every((p) => p.variable === 'SPORBAR_REGISTER_DIR')).toBe(true);
    expect(problems.map((p) => p.problem)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^mitid\/1\.7\.yaml#\/recipients\/\d+\/role: must be equal to one of the allowed values/),
    ]));
    await expect(loadRegisterSource('sporbar (embedded)', join(work, 'nowhere'))).rejects.toThrow(/SPORBAR_REGISTER_DIR/);
  });

  it('overlapping versions are a problem of the directory too', async () => {
    const dir = join(work, 'overlap');
    cpSync(FIXTURE, dir, { recursive: true });
    const file = join(dir, 'mitid/1.7.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('from: 2026-03-01T00:00:00+01:00', 'from: 2025-03-01T00:00:00+01:00'));
    await expect(loadRegisterSource('sporbar (embedded)', dir)).rejects.toThrow('SPORBAR_REGISTER_DIR  mitid/1.7.yaml#/effective/from: overlaps mitid/1.6.yaml, in force until 2026-03-01T00:00:00+01:00');
  });
});
