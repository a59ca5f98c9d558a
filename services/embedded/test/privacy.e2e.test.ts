import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { CompactRange, storeLogSource, verifyLog } from '@sporbar/auditor';
import { createCodec } from '@sporbar/schemas';
import { register } from '@sporbar/schemas';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/**
 * The log follows the notices it audits: consent-based disclosures need consent in force, retention
 * runs out and shreds the details, erasure shreds them on request; the codes, the statistics and
 * the Merkle root over the stored bytes stay as they were.
 */
const CPR = '110685-3377';
const DAY = 86_400_000;
let system: EmbeddedSystem;
const citizen = () => ({ authorization: `Bearer ${devToken({ role: 'citizen', sub: 'c', cpr: CPR })}` });
const dpo = { authorization: `Bearer ${devToken({ role: 'dpo' })}` };

const support = register.activities.find((a) => a.id === 'mitid-support')!;
const recordingFlow = support.flows.find((f) => f.consentScopes.includes('CALL_RECORDING'))!;
const surveyFlow = support.flows.find((f) => f.consentScopes.includes('SATISFACTION_SURVEY'))!;
const core = register.activities.find((a) => a.id === 'mitid-core')!;
const coreFlow = core.flows.find((f) => f.recipientId === 'akamai-denmark')!;

interface Item {
  eventId: string;
  activity: string;
  dataCategories: string[];
  classification: string;
  reasons: string[];
  reasonTexts?: string[];
  details: null | { status: string; values?: Record<string, string>; cause?: string };
}
const myItems = async (): Promise<Item[]> => ((await system.app.inject({ method: 'GET', url: '/v1/me/disclosures?limit=100', headers: citizen() })).json() as { items: Item[] }).items;
/** The Merkle root over the first `size` stored events (all when omitted). */
const storedRoot = async (size = Number.POSITIVE_INFINITY) => {
  const range = new CompactRange();
  for await (const e of system.store.readAll()) if (range.size < size) range.appendLeaf(e.data);
  return { root: range.root().toString('hex'), size: range.size };
};

beforeAll(async () => {
  system = await startEmbeddedSystem({});
});
afterAll(() => system?.close());

describe('privacy of the log itself', () => {
  it('flags a call recording made after the consent was withdrawn', async () => {
    const base = { subject: { cpr: CPR }, activity: 'mitid-support' };
    const recording = (at: number) =>
      system.producer.recordDisclosure({
        ...base,
        recipient: { id: recordingFlow.recipientId, role: recordingFlow.roles[0] },
        purpose: recordingFlow.purposeIds[0]!,
        legalBases: [...recordingFlow.legalBases],
        dataCategories: [...recordingFlow.categoryIds],
        occurredAt: new Date(at),
      });
    const t0 = Date.now() - 50 * DAY;
    await system.producer.giveConsent({ ...base, scope: 'CALL_RECORDING', occurredAt: new Date(t0) });
    const withConsent = await recording(t0 + 1000);
    await system.producer.withdrawConsent({ ...base, scope: 'CALL_RECORDING', occurredAt: new Date(t0 + 2000) });
    const afterWithdrawal = await recording(t0 + 3000);
    await system.settle();
    const alerts = (await system.app.inject({ method: 'GET', url: '/v1/alerts?reason=CONSENT_MISSING', headers: dpo })).json() as { items: Array<{ eventId: string }> };
    expect(alerts.items.map((a) => a.eventId)).toEqual([afterWithdrawal.eventId]);
    expect(alerts.items.map((a) => a.eventId)).not.toContain(withConsent.eventId);

    // The citizen sees it too, with the reason in plain words: in /v1/me/disclosures and on the page.
    const items = await myItems();
    expect(items.find((i) => i.eventId === withConsent.eventId)).toMatchObject({ classification: 'declared', reasons: [], reasonTexts: [] });
    expect(items.find((i) => i.eventId === afterWithdrawal.eventId)).toMatchObject({
      classification: 'undeclared', reasons: ['CONSENT_MISSING'],
      reasonTexts: ['This disclosure requires your consent, and your consent was not given (or had been withdrawn) at that time.'],
    });
    const page = await system.app.inject({ method: 'GET', url: '/v1/me/report?lang=en', headers: { ...citizen(), accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<span class="reasons">This disclosure requires your consent, and your consent was not given (or had been withdrawn) at that time.</span>');
    expect(page.body.match(/<span class="reasons">/g)).toHaveLength(1);
    const da = await system.app.inject({ method: 'GET', url: '/v1/me/report', headers: { ...citizen(), accept: 'text/html' } });
    expect(da.body).toContain('Denne videregivelse kræver dit samtykke, og dit samtykke var ikke givet (eller var trukket tilbage) på det tidspunkt.');
  });

  it('a satisfaction survey with the citizen\'s comment is declared with consent, consent-missing without', async () => {
    const base = { subject: { cpr: CPR }, activity: 'mitid-support' };
    const comment = 'Supporteren var venlig, men ventetiden var lang.';
    const survey = (at: number) =>
      system.producer.recordDisclosure({
        ...base,
        recipient: { id: surveyFlow.recipientId, role: surveyFlow.roles[0] },
        purpose: surveyFlow.purposeIds[0]!,
        legalBases: [...surveyFlow.legalBases],
        dataCategories: ['phone-number'],
        personalDetails: { phoneNumber: '+45 20 00 00 02', surveyComment: comment },
        occurredAt: new Date(at),
      });
    const t0 = Date.now() - 20 * DAY;
    const before = await survey(t0);
    await system.producer.giveConsent({ ...base, scope: 'SATISFACTION_SURVEY', occurredAt: new Date(t0 + 1000) });
    const consented = await survey(t0 + 2000);
    await system.settle();
    const items = await myItems();
    expect(items.find((i) => i.eventId === consented.eventId)).toMatchObject({
      classification: 'declared', reasons: [], dataCategories: ['phone-number', 'survey-comment'],
      details: { status: 'ok', values: { phoneNumber: '+45 20 00 00 02', surveyComment: comment } },
    });
    expect(items.find((i) => i.eventId === before.eventId)).toMatchObject({ classification: 'undeclared', reasons: ['CONSENT_MISSING'] });
    const alerts = (await system.app.inject({ method: 'GET', url: '/v1/alerts?limit=100', headers: dpo })).json() as { items: Array<{ eventId: string; reasons: string[] }> };
    expect(alerts.items.filter((a) => a.eventId === consented.eventId || a.eventId === before.eventId))
      .toEqual([{ eventId: before.eventId, reasons: ['CONSENT_MISSING'] }].map((a) => expect.objectContaining(a)));
  });

  it('retention runs out per activity: details shredded, codes and counts kept, proofs unchanged', async () => {
    // A support call 40 days ago with the caller's phone number; a MitID login with an IP address.
    const phoneFlow = support.flows.find((f) => f.consentScopes.length === 0 && f.categoryIds.includes('phone-number')) ?? support.flows[0]!;
    const oldCall = await system.producer.recordDisclosure({
      subject: { cpr: CPR },
      activity: 'mitid-support',
      recipient: { id: phoneFlow.recipientId, role: phoneFlow.roles[0] },
      purpose: phoneFlow.purposeIds[0]!,
      legalBases: [...phoneFlow.legalBases],
      dataCategories: [...phoneFlow.categoryIds],
      personalDetails: { phoneNumber: '+45 20 00 00 01' },
      occurredAt: new Date(Date.now() - 40 * DAY),
    });
    const login = await system.producer.recordDisclosure({
      subject: { cpr: CPR },
      activity: 'mitid-core',
      recipient: { id: coreFlow.recipientId, role: coreFlow.roles[0] },
      purpose: coreFlow.purposeIds[0]!,
      legalBases: [...coreFlow.legalBases],
      dataCategories: [...coreFlow.categoryIds],
      personalDetails: { ipAddress: '198.51.100.23' },
    });
    await system.settle();
    const before = await myItems();
    expect(before.find((i) => i.eventId === oldCall.eventId)!.details).toEqual({ status: 'ok', values: { phoneNumber: '+45 20 00 00 01' } });
    const summaryBefore = (await system.app.inject({ method: 'GET', url: `/v1/recipients/${phoneFlow.recipientId}/summary`, headers: dpo })).json();
    const rootBefore = await storedRoot();
    expect(await system.checkpointNow()).toBe(rootBefore.size); // a signed checkpoint before any shredding

    // 200 days on, every mitid-support rule has run out (longest: 180 days); mitid-core is "while necessary".
    const expired = await system.runRetention(new Date(Date.now() + 200 * DAY));
    expect(expired).toBe(1);
    await system.settle();
    expect(await system.runRetention(new Date(Date.now() + 200 * DAY))).toBe(0); // done: nothing twice

    const after = await myItems();
    expect(after.find((i) => i.eventId === oldCall.eventId)!.details).toMatchObject({ status: 'erased', cause: 'RETENTION_EXPIRED' });
    expect(after.find((i) => i.eventId === login.eventId)!.details).toEqual({ status: 'ok', values: { ipAddress: '198.51.100.23' } });
    expect(after.length).toBe(before.length); // who, why and when remain
    const summaryAfter = (await system.app.inject({ method: 'GET', url: `/v1/recipients/${phoneFlow.recipientId}/summary`, headers: dpo })).json();
    expect(summaryAfter).toEqual(summaryBefore);
    // The log only grew (RetentionExpired, SubjectKeyShredded, the views): every earlier leaf is
    // unchanged, so the tree of the first n events has the same root as before.
    const now = await storedRoot();
    expect(now.size).toBeGreaterThan(rootBefore.size + 2);
    expect(await storedRoot(rootBefore.size)).toEqual(rootBefore);
    const types: string[] = [];
    for await (const e of system.store.readAll({ after: 0n })) types.push(e.type);
    expect(types.slice(rootBefore.size)).toEqual(expect.arrayContaining(['RetentionExpired', 'SubjectKeyShredded']));
  });

  it('erasure on request shreds every remaining key of the subject', async () => {
    await system.producer.requestErasure({ subject: { cpr: CPR }, reason: 'Art. 17 request' });
    await system.settle();
    const items = await myItems();
    const withDetails = items.filter((i) => i.details);
    expect(withDetails.length).toBeGreaterThan(0);
    expect(withDetails.every((i) => i.details!.status === 'erased')).toBe(true);
    const page = (await system.app.inject({ method: 'GET', url: '/v1/me/report', headers: { ...citizen(), accept: 'text/html' } })).body;
    expect(page).toContain('Detaljerne er slettet');
    expect(page).not.toContain('198.51.100.23');
    // The auditor's verify still passes: checkpoints from before and after the shredding, consistent.
    await system.checkpointNow();
    const report = await verifyLog({ source: storeLogSource(system.store), codec: createCodec(), publicKey: system.log.publicKey().publicKeyPem });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpointsVerified).toBeGreaterThanOrEqual(2);
  });

  it('tampered details ciphertext is reported as unreadable, never an error page', async () => {
    const other = '040404-4040';
    const { eventId } = await system.producer.recordDisclosure({
      subject: { cpr: other },
      activity: 'mitid-core',
      recipient: { id: coreFlow.recipientId, role: coreFlow.roles[0] },
      purpose: coreFlow.purposeIds[0]!,
      legalBases: [...coreFlow.legalBases],
      dataCategories: [...coreFlow.categoryIds],
      personalDetails: { ipAddress: '203.0.113.9' },
    });
    await system.settle();
    await system.db.query(
      `UPDATE ${system.readModels.prefix()}subject_disclosures SET details = overlay(details placing '\\xff'::bytea from length(details) - 3 for 1) WHERE event_id = $1`,
      [eventId],
    );
    const res = await system.app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${devToken({ role: 'citizen', sub: 'o', cpr: other })}` } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: Item[] }).items[0]!.details).toEqual({ status: 'unreadable' });
    const html = await system.app.inject({ method: 'GET', url: '/v1/me/report', headers: { authorization: `Bearer ${devToken({ role: 'citizen', sub: 'o', cpr: other })}`, accept: 'text/html' } });
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('Detaljerne kan ikke læses');
  });
});
