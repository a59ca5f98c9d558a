import { describe, expect, it } from 'vitest';
import {
  createDryRun,
  formatDryRun,
  reclassificationKind,
  registerFiles,
  registerInForceAt,
  type ClassificationSummary,
  type DisclosureRecorded,
  type RegisterFiles,
} from '../src/index.ts';

const declared = (flowId: string, retentionRuleIds: string[] = []): ClassificationSummary => ({ status: 'declared', flowId, retentionRuleIds });
const undeclared = (...reasons: [string, string][]): ClassificationSummary => ({ status: 'undeclared', reasons: reasons.map(([code, message]) => ({ code, message })) });

describe('reclassificationKind', () => {
  it('names each way a classification can change, and no change', () => {
    expect(reclassificationKind(declared('f'), undeclared(['RECIPIENT_NOT_DECLARED', 'x']))).toBe('now-undeclared');
    expect(reclassificationKind(undeclared(['RECIPIENT_NOT_DECLARED', 'x']), declared('f'))).toBe('now-declared');
    expect(reclassificationKind(declared('f', ['r1']), declared('f', ['r1']))).toBeNull();
    expect(reclassificationKind(declared('f', ['r1']), declared('g', ['r1']))).toBe('flow-changed');
    expect(reclassificationKind(declared('f', ['r1']), declared('f', ['r2']))).toBe('flow-changed');
    // Reasons are compared as a set of code and message: the same code for another category is another reason.
    expect(reclassificationKind(undeclared(['A', 'a'], ['B', 'b']), undeclared(['B', 'b'], ['A', 'a']))).toBeNull();
    expect(reclassificationKind(undeclared(['CATEGORY_NOT_DECLARED', 'category "x"']), undeclared(['CATEGORY_NOT_DECLARED', 'category "y"']))).toBe('reasons-changed');
  });
});

describe('registerInForceAt', () => {
  it('is the register of the versions in force, and the empty register before any notice took effect', () => {
    expect(registerInForceAt(registerFiles, new Date('2025-01-01T00:00:00Z')).notices.map((n) => n.id)).toEqual(['mitid', 'nemkonto']);
    expect(registerInForceAt(registerFiles, new Date('2023-06-01T00:00:00Z')).notices.map((n) => n.id)).toEqual(['nemkonto']);
    const empty = registerInForceAt(registerFiles, new Date('2020-01-01T00:00:00Z'));
    expect(empty.notices).toEqual([]);
    expect(empty.activities).toEqual([]);
  });
});

describe('createDryRun', () => {
  // The candidate: MitID 1.6 from 2025-01-01 instead of 2024-01-01 (a pure shift of its effective period).
  const later: RegisterFiles = {
    shared: registerFiles.shared,
    sharedSha256: registerFiles.sharedSha256,
    versions: registerFiles.versions.map((v) => (v.file.notice === 'mitid' ? { ...v, from: Date.parse('2025-01-01T00:00:00Z'), file: { ...v.file, effective: { from: '2025-01-01T00:00:00Z' } } } : v)),
  };
  const event = (id: string, at: string): DisclosureRecorded => ({
    eventId: id,
    occurredAt: Date.parse(at) * 1000,
    sourceSystem: 'mitid',
    controllerCvr: '34051178',
    activity: 'mitid-core',
    subject: { scheme: 'PSEUDONYM', value: 'psn_k1_x' },
    recipient: { id: 'akamai-denmark', role: 'CONTROLLER' },
    purpose: 'mitid-traffic-security-analysis',
    legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E'],
    dataCategories: ['ip-address'],
    transfer: null,
    personalDetails: null,
    correlationId: null,
  }) as DisclosureRecorded;

  it('classifies each disclosure against the version in force at its occurredAt in each register', () => {
    const run = createDryRun(registerFiles, later, { maxListed: 1 });
    const a = run.add({ eventId: 'a', position: 1n, event: event('a', '2024-06-01T00:00:00Z') });
    expect(a).toMatchObject({
      kind: 'now-undeclared', position: '1', occurredAt: '2024-06-01T00:00:00.000Z', currentVersions: ['mitid/1.6.yaml', 'nemkonto/unnumbered.yaml'], candidateVersions: ['nemkonto/unnumbered.yaml'],
      current: { status: 'declared', flowId: 'mitid-core-akamai-denmark' }, candidate: { status: 'undeclared' },
    });
    expect(a?.candidate.status === 'undeclared' && a.candidate.reasons[0]).toEqual({ code: 'UNKNOWN_ACTIVITY', message: 'activity "mitid-core" is not in the processing register' });
    expect(run.add({ eventId: 'b', position: 2n, event: event('b', '2025-06-01T00:00:00Z') })).toBeNull();
    expect(run.add({ eventId: 'c', position: 3n, event: event('c', '2024-07-01T00:00:00Z') })?.kind).toBe('now-undeclared');
    const report = run.report();
    expect(report).toMatchObject({ disclosures: 3, changed: 2, truncated: true, byKind: { 'now-undeclared': 2, 'now-declared': 0, 'reasons-changed': 0, 'flow-changed': 0 } });
    expect(report.listed.map((c) => c.eventId)).toEqual(['a']);
    expect(report.groups).toEqual([
      expect.objectContaining({ activity: 'mitid-core', recipient: 'akamai-denmark', kind: 'now-undeclared', count: 2, firstOccurredAt: '2024-06-01T00:00:00.000Z', lastOccurredAt: '2024-07-01T00:00:00.000Z', to: 'undeclared (UNKNOWN_ACTIVITY, RECIPIENT_NOT_DECLARED, PURPOSE_NOT_DECLARED, CATEGORY_NOT_DECLARED)' }),
    ]);
    const text = formatDryRun(report, { current: 'register', candidate: 'candidate' });
    expect(text[1]).toBe('2 would be classified differently:');
    expect(text.at(-1)).toBe('  … 1 more (raise --max to list them)');
  });
});
