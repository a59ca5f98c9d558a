import { describe, expect, it } from 'vitest';
import {
  createDisclosureJudge,
  judgedByOf,
  register,
  registerFiles,
  registerPublishedEvents,
  registerPublishedId,
  registerTimeline,
  type JudgedDisclosure,
} from '../src/index.ts';

const mitid = registerFiles.versions.find((v) => v.file.notice === 'mitid')!;
const akamai = register.activities.find((a) => a.id === 'mitid-core')!.flows.find((f) => f.recipientId === 'akamai-denmark')!;
const web = (at: string): JudgedDisclosure => ({
  occurredAt: Date.parse(at) * 1000,
  activity: 'mitid-core',
  recipient: { id: 'akamai-denmark', role: 'CONTROLLER' },
  purpose: akamai.purposeIds[0]!,
  legalBases: [...akamai.legalBases],
  dataCategories: ['ip-address'],
  transfer: null,
});

describe('judging a disclosure by the notice version in force when it happened', () => {
  it('names the version whose notice declares the activity, with the hash of its file', () => {
    const judged = createDisclosureJudge(registerFiles)(web('2026-05-01T10:00:00Z'));
    expect(judged).toEqual({ classification: 'declared', flow: akamai.id, retention: 'mitid-core-while-necessary', notice: 'mitid', noticeVersion: '1.6', noticeSha256: mitid.sha256 });
    expect(judgedByOf(judged)).toEqual({ notice: 'mitid', version: '1.6', sha256: mitid.sha256 });
    expect(Object.isFrozen(judged)).toBe(true);
  });

  it('before the notice took effect there was no notice: the activity is unknown and no version is named', () => {
    const judged = createDisclosureJudge(registerFiles)(web('2023-12-31T22:59:59Z')); // MitID 1.6 from 2024-01-01T00:00+01:00
    expect(judged).toEqual({ classification: 'undeclared', reasons: 'UNKNOWN_ACTIVITY,RECIPIENT_NOT_DECLARED,PURPOSE_NOT_DECLARED,CATEGORY_NOT_DECLARED' });
    expect(judgedByOf(judged)).toBeNull();
    expect(createDisclosureJudge(registerFiles)(web('2023-12-31T23:00:00Z'))).toMatchObject({ classification: 'declared', noticeVersion: '1.6' });
  });

  it('a fixed register judges every instant by itself and names no version', () => {
    const t = registerTimeline(register);
    expect(t.files).toBeNull();
    expect(t.at(new Date('2020-01-01T00:00:00Z'))).toBe(register);
    expect(createDisclosureJudge(register)(web('2020-01-01T00:00:00Z'))).toEqual({ classification: 'declared', flow: akamai.id, retention: 'mitid-core-while-necessary' });
  });

  it('RegisterPublished: one per version, its eventId from the two content hashes (the same files give the same ids)', () => {
    const a = registerPublishedEvents(registerFiles, new Date('2026-01-01T00:00:00Z'));
    const b = registerPublishedEvents(registerFiles, new Date('2026-06-01T00:00:00Z'));
    expect(a.map((e) => e.eventId)).toEqual(b.map((e) => e.eventId));
    expect(a.map((e) => [e.path, e.version, e.effectiveTo])).toEqual([['mitid/1.6.yaml', '1.6', null], ['nemkonto/unnumbered.yaml', null, null]]);
    expect(a[0]!.eventId).toBe(registerPublishedId(mitid.sha256, registerFiles.sharedSha256));
    expect(registerPublishedId(mitid.sha256, 'f'.repeat(64))).not.toBe(a[0]!.eventId);
  });
});
