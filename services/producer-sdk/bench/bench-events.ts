import { register } from '@sporbar/schemas';
import type { DisclosureInput } from '../src/index.ts';

const flows = register.activities.find((a) => a.id === 'mitid-core')!.flows;

/**
 * The i-th event of the SDK and pipeline benches: MitID core flows round-robin, over 210,000 distinct
 * synthetic CPR numbers (day i mod 28, month i mod 12, serial i mod 10,000 repeat together every
 * 210,000 events). Privacy on: the CPR number is sealed and an IP address travels as sealed details;
 * off: a pseudonymous subject and no details.
 */
export function benchDisclosure(i: number, privacy: boolean): DisclosureInput {
  const f = flows[i % flows.length]!;
  const cpr = `${String(1 + (i % 28)).padStart(2, '0')}${String(1 + (i % 12)).padStart(2, '0')}80-${String(i % 10_000).padStart(4, '0')}`;
  return {
    subject: privacy ? { cpr } : { pseudonym: `psn_k1_${Buffer.from(cpr.padEnd(32, '.')).toString('base64url').slice(0, 43)}` },
    activity: 'mitid-core',
    recipient: { id: f.recipientId, role: f.roles[0] },
    purpose: f.purposeIds[0]!,
    legalBases: [...f.legalBases],
    dataCategories: [...f.categoryIds],
    ...(privacy ? { personalDetails: { ipAddress: `10.1.${i % 250}.${i % 200}` } } : {}),
  };
}
