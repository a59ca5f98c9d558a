import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDisclosureJudge, registerFiles, registerPublishedEvents, type DisclosureRecorded } from '@sporbar/schemas';
import { createClassificationCheck, formatClassificationAudit } from '../src/classification-check.ts';

const nemkonto = registerFiles.versions.find((v) => v.file.notice === 'nemkonto')!;
const flow = nemkonto.file.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
const disclosure = (at: string): DisclosureRecorded => ({
  eventId: randomUUID(),
  occurredAt: Date.parse(at) * 1000,
  sourceSystem: 'nemkonto',
  controllerCvr: '34051178',
  activity: 'nemkonto-register',
  subject: { scheme: 'PSEUDONYM', value: `psn_k1_${'a'.repeat(43)}` },
  recipient: { id: flow.recipientId, role: flow.roles[0] },
  purpose: flow.purposeIds[0]!,
  legalBases: [...flow.legalBases],
  dataCategories: [...flow.categoryIds],
  transfer: null,
  personalDetails: null,
  correlationId: null,
});
const judge = createDisclosureJudge(registerFiles);
const published = registerPublishedEvents(registerFiles, new Date('2026-01-01T00:00:00Z'));

describe('the replay judges each stored classification again', () => {
  it('a classification by a published version of its time is reproduced: no finding', () => {
    const check = createClassificationCheck(registerFiles);
    published.forEach((e, i) => check.registerPublished(e, BigInt(i + 1)));
    const d = disclosure('2026-05-01T10:00:00Z');
    expect(judge(d)).toMatchObject({ classification: 'declared', notice: 'nemkonto', noticeSha256: nemkonto.sha256 });
    check.disclosure(d, { ...judge(d), producer: 'nemkonto' }, 10n);
    expect(check.result()).toMatchObject({ checked: 1, unnamed: 0, findings: [] });
  });

  it('reports a stored classification the register of its time does not give, and a version no earlier RegisterPublished names', () => {
    const check = createClassificationCheck(registerFiles);
    const d = disclosure('2026-05-01T10:00:00Z');
    // Not yet published; then a forged RegisterPublished (its eventId is not the one its hashes give) publishes nothing.
    check.disclosure(d, judge(d), 5n);
    check.registerPublished({ ...published.find((e) => e.notice === 'nemkonto')!, eventId: randomUUID() }, 6n);
    check.disclosure(d, { ...judge(d), classification: 'undeclared', reasons: 'RECIPIENT_NOT_DECLARED' }, 7n);
    const r = check.result();
    expect(r.findings.map((f) => [f.kind, f.position])).toEqual([['unpublished', 5n], ['differs', 7n], ['unpublished', 7n]]);
    expect(r.published).toEqual([]);
    expect(formatClassificationAudit(r)).toContain(`judged by nemkonto (no version) (sha256 ${nemkonto.sha256}), which no earlier RegisterPublished names`);
  });

  it('a disclosure stored before versions were named is compared on its classification only', () => {
    const check = createClassificationCheck(registerFiles);
    const d = disclosure('2026-05-01T10:00:00Z');
    const { notice: _n, noticeSha256: _s, ...unnamed } = judge(d);
    check.disclosure(d, unnamed, 3n);
    expect(check.result()).toMatchObject({ checked: 1, unnamed: 1, findings: [] });
  });
});
