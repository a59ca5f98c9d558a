import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore } from '@sporbar/event-store';
import { classifyDisclosure, disclosureFacts, register, REGISTER_DIR, type DisclosureRecorded, type DryRunReport, type Reclassification } from '@sporbar/schemas';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { disclosure, postgresTestLog, toAppend, type TestLog } from './support.ts';
import { runCliCaptured } from './support/run-cli.ts';

// The candidate register: NemKonto gets a new version from 2026-06-01 that no longer names KMD (its
// recipient and its flow removed); the unnumbered version ends there. Disclosures to KMD before that
// day are classified against the unnumbered version in both registers, those after it against the
// new version in the candidate: only those change.
const CHANGE = '2026-06-01T00:00:00+02:00';
const dir = mkdtempSync(join(tmpdir(), 'sporbar-dry-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Drops the YAML list item starting with `first` (a line, e.g. '  - id: kmd') and its more-indented lines. */
function dropItem(text: string, first: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(first);
  if (start < 0) throw new Error(`fixture: no line ${JSON.stringify(first)}`);
  const indent = first.indexOf('-');
  let end = start + 1;
  while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.search(/\S/) > indent)) end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join('\n');
}

function candidateRegister(): string {
  const cand = join(dir, 'candidate');
  cpSync(REGISTER_DIR, cand, { recursive: true });
  const file = join(cand, 'nemkonto/unnumbered.yaml');
  const text = readFileSync(file, 'utf8');
  const from = '  from: 2023-05-04T00:00:00+02:00\n';
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, `${from}  to: ${CHANGE}\n`));
  const next = dropItem(dropItem(text, '  - id: kmd'), '      - id: nemkonto-register-kmd')
    .replace('version: null', 'version: "2026"')
    .replace(from, `  from: ${CHANGE}\n`);
  expect(next).not.toMatch(/\bkmd\b/);
  writeFileSync(join(cand, 'nemkonto/2026.yaml'), next);
  return cand;
}

const micros = (iso: string, i: number): number => Date.parse(iso) * 1000 + i * 1_000_000;
const BEFORE = '2025-11-24T10:00:00Z';
const AFTER = '2026-07-01T10:00:00Z';
const toKmd = (i: number, at: string, purpose = 'nemkonto-system-operation'): DisclosureRecorded => ({
  ...disclosure(i, micros(at, i)),
  recipient: { id: 'kmd', role: 'PROCESSOR' },
  purpose,
  legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
  dataCategories: ['transaction-history'],
});
const toTax = (i: number, at: string): DisclosureRecorded => ({
  ...disclosure(i, micros(at, i)),
  recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
  purpose: 'nemkonto-debt-collection',
  legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
  dataCategories: ['transaction-history'],
});

/** 15 disclosures, interleaved; returns the ids the dry run must list (kmd after the change), in log order. */
async function fill(store: EventStore): Promise<{ nowUndeclared: string[]; reasonsChanged: string[] }> {
  const events: { d: DisclosureRecorded; change?: 'now-undeclared' | 'reasons-changed' }[] = [
    ...[0, 1, 2, 3].map((i) => ({ d: toKmd(i, BEFORE) })), // unnumbered in force in both: unchanged
    ...[4, 5, 6].map((i) => ({ d: toTax(i, AFTER) })), // still declared in the new version
    ...[7, 8, 9, 10, 11].map((i) => ({ d: toKmd(i, AFTER), change: 'now-undeclared' as const })),
    ...[12, 13].map((i) => ({ d: toKmd(i, AFTER, 'nemkonto-payments'), change: 'reasons-changed' as const })), // undeclared already (purpose), now for the recipient too
    { d: { ...toKmd(14, BEFORE), occurredAt: micros('2020-01-01T00:00:00Z', 0) } }, // no NemKonto version in force in either: unchanged
  ];
  // Interleave: a tax disclosure between the KMD ones, so the listing must pick, not take a run.
  const order = [0, 7, 4, 1, 8, 12, 2, 9, 5, 3, 10, 13, 6, 11, 14];
  const out = { nowUndeclared: [] as string[], reasonsChanged: [] as string[] };
  for (const k of order) {
    const { d, change } = events[k]!;
    await store.append(`subject-${d.subject.value}`, [toAppend(d)]);
    if (change === 'now-undeclared') out.nowUndeclared.push(d.eventId);
    if (change === 'reasons-changed') out.reasonsChanged.push(d.eventId);
  }
  return out;
}

const cli = (args: string[]) => runCliCaptured(['--quiet', ...args]);

type JsonReport = DryRunReport & { events: number; listed: Reclassification[] };

function dryRunSuite(name: string, storeArgs: () => string[], expected: () => { nowUndeclared: string[]; reasonsChanged: string[] }, candidate: () => string): void {
  describe(`sporbar-audit register-dry-run on ${name}`, () => {
    it('the fixture: KMD disclosures are declared under the current register, and the candidate loads', () => {
      expect(classifyDisclosure(register, disclosureFacts(toKmd(0, AFTER))).status).toBe('declared');
      expect(classifyDisclosure(register, disclosureFacts(toTax(0, AFTER))).status).toBe('declared');
    });

    it('lists exactly the disclosures to the recipient the new version drops, with the right counts (JSON)', async () => {
      const r = await cli([...storeArgs(), 'register-dry-run', '--register', candidate(), '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out) as JsonReport;
      const ids = expected();
      expect(report.events).toBe(15);
      expect(report.disclosures).toBe(15);
      expect(report.changed).toBe(7);
      expect(report.byKind).toEqual({ 'now-undeclared': 5, 'now-declared': 0, 'reasons-changed': 2, 'flow-changed': 0 });
      expect(report.truncated).toBe(false);
      expect(report.listed.filter((c) => c.kind === 'now-undeclared').map((c) => c.eventId)).toEqual(ids.nowUndeclared);
      expect(report.listed.filter((c) => c.kind === 'reasons-changed').map((c) => c.eventId)).toEqual(ids.reasonsChanged);
      expect(report.listed.map((c) => Number(c.position))).toEqual([...report.listed.map((c) => Number(c.position))].sort((a, b) => a - b));
      const first = report.listed[0]!;
      expect(first).toMatchObject({
        activity: 'nemkonto-register',
        recipient: { id: 'kmd', role: 'PROCESSOR' },
        kind: 'now-undeclared',
        current: { status: 'declared', flowId: 'nemkonto-register-kmd' },
        candidate: { status: 'undeclared', reasons: [{ code: 'RECIPIENT_NOT_DECLARED', message: 'recipient "kmd" is not declared for activity "nemkonto-register"' }] },
        currentVersions: ['mitid/1.6.yaml', 'nemkonto/unnumbered.yaml'],
        candidateVersions: ['mitid/1.6.yaml', 'nemkonto/2026.yaml'],
      });
      expect(report.groups.map((g) => [g.activity, g.recipient, g.kind, g.count])).toEqual([
        ['nemkonto-register', 'kmd', 'now-undeclared', 5],
        ['nemkonto-register', 'kmd', 'reasons-changed', 2],
      ]);
      expect(report.groups[0]).toMatchObject({ from: 'declared (flow nemkonto-register-kmd; retention nemkonto-transactions-not-stated)', to: 'undeclared (RECIPIENT_NOT_DECLARED)' });
      expect(report.groups[1]).toMatchObject({ from: 'undeclared (PURPOSE_NOT_DECLARED)', to: 'undeclared (RECIPIENT_NOT_DECLARED, PURPOSE_NOT_DECLARED)' });
    });

    it('says it in words; --max limits the listing, not the counts; --exit-code exits 1 when anything changes', async () => {
      const r = await cli([...storeArgs(), 'register-dry-run', '--register', candidate(), '--max', '2', '--exit-code']);
      expect(r.code).toBe(1);
      const lines = r.out.trimEnd().split('\n');
      expect(lines[0]).toBe(`15 recorded disclosure(s) classified under the current register (${REGISTER_DIR}) and under the candidate (${candidate()}), each against the version in force when it occurred:`);
      expect(lines.slice(1, 4)).toEqual(['7 would be classified differently:', '  5 declared now, undeclared under the candidate', '  2 undeclared under both, for other reasons']);
      expect(lines).toContain('per activity and recipient:');
      expect(lines.find((l) => l.startsWith('  activity nemkonto-register, recipient kmd (PROCESSOR): 5 disclosure(s)'))).toBe(
        '  activity nemkonto-register, recipient kmd (PROCESSOR): 5 disclosure(s) between 2026-07-01T10:00:07.000Z and 2026-07-01T10:00:11.000Z: declared (flow nemkonto-register-kmd; retention nemkonto-transactions-not-stated) → undeclared (RECIPIENT_NOT_DECLARED): recipient "kmd" is not declared for activity "nemkonto-register"',
      );
      expect(lines).toContain('the first 2 of them:');
      expect(lines.filter((l) => l.startsWith('  position '))).toHaveLength(2);
      expect(lines.at(-1)).toBe('  … 5 more (raise --max to list them)');
    });

    it('finds nothing when the candidate is the current register, and refuses a candidate that does not load', async () => {
      const same = await cli([...storeArgs(), 'register-dry-run', '--register', REGISTER_DIR, '--exit-code']);
      expect(same.code).toBe(0);
      expect(same.out.trimEnd().split('\n').at(-1)).toBe('none would be classified differently');
      const back = JSON.parse((await cli([...storeArgs(), 'register-dry-run', '--current', candidate(), '--register', REGISTER_DIR, '--json'])).out) as JsonReport;
      expect(back.byKind).toEqual({ 'now-undeclared': 0, 'now-declared': 5, 'reasons-changed': 2, 'flow-changed': 0 });

      const broken = join(dir, 'broken');
      cpSync(candidate(), broken, { recursive: true });
      const file = join(broken, 'nemkonto/2026.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('2026-06-01T00:00:00+02:00', '2026-01-01T00:00:00+02:00')); // overlaps the unnumbered version
      const r = await cli([...storeArgs(), 'register-dry-run', '--register', broken]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/the candidate register .*broken does not load .*overlaps nemkonto\/unnumbered\.yaml/);
    });
  });
}

// PGlite: the embedded layout (<dir>/pglite, schema sporbar), as `npm start` leaves it.
let pgliteIds: { nowUndeclared: string[]; reasonsChanged: string[] };
let cand: string;
beforeAll(async () => {
  cand = candidateRegister();
  const db = await PGlite.create(join(dir, 'pglite'));
  const store = await createPgliteEventStore({ db });
  pgliteIds = await fill(store);
  await store.close();
  await db.close();
}, 120_000);
dryRunSuite('PGlite', () => ['--store', 'pglite', '--data-dir', dir], () => pgliteIds, () => cand);

// PostgreSQL (skipped with a reason when none answers; CI has one).
const probe = await probePostgres();
if (probe.skip) console.warn(`register-dry-run on PostgreSQL: skipped: ${probe.skip}`);
let pgDb: { name: string; url: string } | undefined;
let pgLog: TestLog | undefined;
let pgIds: { nowUndeclared: string[]; reasonsChanged: string[] };
describe.skipIf(probe.skip !== undefined)('PostgreSQL', () => {
  beforeAll(async () => {
    pgDb = await createTestDatabase(probe.url!);
    pgLog = await postgresTestLog(pgDb.url);
    pgIds = await fill(pgLog.store);
  }, 120_000);
  afterAll(async () => {
    await pgLog?.close();
    if (pgDb) await dropTestDatabase(probe.url!, pgDb.name);
  });
  dryRunSuite('PostgreSQL', () => ['--store', 'postgres', '--database-url', pgDb!.url, '--schema', pgLog!.schema], () => pgIds, () => cand);
});
