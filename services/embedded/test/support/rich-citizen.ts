import { register } from '@sporbar/schemas';
import type { EmbeddedSystem } from '../../src/index.ts';

const DAY = 86_400_000;

const flowOf = (activityId: string, flowId: string) => {
  const flow = register.activities.find((a) => a.id === activityId)?.flows.find((f) => f.id === flowId);
  if (!flow) throw new Error(`no flow ${flowId} in ${activityId}`);
  return flow;
};

export interface RichCitizen {
  /** Event ids by what they show. */
  readonly ids: { readonly undeclared: string; readonly consentMissing: string; readonly withDetails: string; readonly erased: string; readonly transfer: string };
  readonly total: number;
}

/**
 * One citizen's last fourteen months, as a real person's would look: MitID logins through a broker,
 * Nets DanID and Akamai, a NemKonto payment from the tax authority through the banks, a support call
 * (its call data, and its recording with consent), the consent withdrawn, and a recording made after the withdrawal (consent
 * missing), a satisfaction survey with their comment, a transfer to Greenland under the notice's
 * standard clauses, and one disclosure to a recipient the notice does not name (undeclared). Support
 * story is 230 days old, past its longest rule (180 days): a retention run now erases its details, while
 * a login's IP address lives on.
 */
export async function recordRichCitizen(system: EmbeddedSystem, cpr: string, now = Date.now()): Promise<RichCitizen> {
  const subject = { cpr };
  const at = (daysAgo: number, hour = 10) => new Date(Math.floor((now - daysAgo * DAY) / DAY) * DAY + hour * 3_600_000);
  const send = (activity: string, flowId: string, occurredAt: Date, extra: Record<string, unknown> = {}) => {
    const f = flowOf(activity, flowId);
    return system.producer.recordDisclosure({
      subject,
      activity,
      recipient: { id: f.recipientId, role: f.roles[0]! },
      purpose: f.purposeIds[0]!,
      legalBases: [...f.legalBases],
      dataCategories: [...f.categoryIds],
      occurredAt,
      ...extra,
    } as Parameters<EmbeddedSystem['producer']['recordDisclosure']>[0]);
  };
  let total = 0;
  const count = async <T>(p: Promise<T>): Promise<T> => {
    total++;
    return p;
  };

  // MitID: logins spread over fourteen months (more lately), each one to the broker and Nets DanID.
  let withDetails = '';
  for (const daysAgo of [420, 380, 300, 260, 200, 150, 120, 90, 60, 45, 30, 20, 12, 6, 2]) {
    await count(send('mitid-core', 'mitid-core-mitid-broker', at(daysAgo, 9)));
    const nets = await count(send('mitid-core', 'mitid-core-nets-danid', at(daysAgo, 9), daysAgo === 6 ? { personalDetails: { ipAddress: '198.51.100.23' } } : {}));
    if (daysAgo === 6) withDetails = nets.eventId;
  }
  for (const daysAgo of [250, 40, 3]) await count(send('mitid-core', 'mitid-core-akamai-denmark', at(daysAgo, 11)));
  // A transfer to Greenland under the notice's standard data protection clauses (MitID §6).
  const transfer = await count(send('mitid-core', 'mitid-core-registration-authority', at(330, 13), { transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' } }));

  // NemKonto: a tax refund, paid through the citizen's bank.
  const nemkonto = register.activities.find((a) => a.id === 'nemkonto-register' || a.flows.some((f) => f.recipientId === 'danish-tax-authority'))!;
  for (const recipient of ['danish-tax-authority', 'citizens-bank', 'payment-processing-banks']) {
    const f = nemkonto.flows.find((x) => x.recipientId === recipient);
    if (!f) continue;
    for (const daysAgo of [270, 95]) await count(send(nemkonto.id, f.id, at(daysAgo, 14)));
  }

  // MitID support: a call recorded with consent, the consent withdrawn, a recording after that.
  const support = { subject, activity: 'mitid-support' };
  await system.producer.giveConsent({ ...support, scope: 'CALL_RECORDING', occurredAt: at(230, 8) });
  // The call itself (its call data: the phone number) and its recording, with consent.
  const erased = await count(send('mitid-support', 'mitid-support-dba-inquiries', at(230, 9), { dataCategories: ['phone-number', 'call-data'], personalDetails: { phoneNumber: '+45 20 00 00 01' } }));
  await count(send('mitid-support', 'mitid-support-dba-call-recording', at(230, 9)));
  await system.producer.withdrawConsent({ ...support, scope: 'CALL_RECORDING', occurredAt: at(229, 8) });
  const consentMissing = await count(send('mitid-support', 'mitid-support-dba-call-recording', at(228, 9)));
  await system.producer.giveConsent({ ...support, scope: 'SATISFACTION_SURVEY', occurredAt: at(228, 10) });
  await count(send('mitid-support', 'mitid-support-dba-satisfaction-survey', at(228, 11), { dataCategories: ['phone-number'], personalDetails: { phoneNumber: '+45 20 00 00 02', surveyComment: 'Supporteren var venlig, men ventetiden var lang.' } }));

  // A disclosure the notice does not cover: Akamai was sent the citizen's CPR number.
  const f = flowOf('mitid-core', 'mitid-core-akamai-denmark');
  const undeclared = await count(
    system.producer.recordDisclosure({
      subject,
      activity: 'mitid-core',
      recipient: { id: f.recipientId, role: f.roles[0]! },
      purpose: f.purposeIds[0]!,
      legalBases: [...f.legalBases],
      dataCategories: [...f.categoryIds, 'cpr-number'],
      occurredAt: at(15, 16),
    }),
  );
  await system.settle();
  return { ids: { undeclared: undeclared.eventId, consentMissing: consentMissing.eventId, withDetails, erased: erased.eventId, transfer: transfer.eventId }, total };
}
