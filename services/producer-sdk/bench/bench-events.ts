import { register } from '@sporbar/schemas';
import type { DisclosureInput } from '../src/index.ts';

const flows = register.activities.find((a) => a.id === 'mitid-core')!.flows;

/**
 * Which subjects the bench events are about:
 * - `cold`: every event a subject the pipeline has not seen yet (210,000 distinct synthetic CPR
 *   numbers before the first repeats): the worst case for the ingest, one new data key per event;
 * - `login`: one MitID login discloses along each of the activity's flows (broker, Akamai, Nets DanID,
 *   …), so consecutive events come in groups of `flows.length` (6) about the same subject: one new data
 *   key per login, as a citizen's first login after each key expiry would cost.
 */
export type SubjectMix = 'cold' | 'login';

/** The synthetic CPR number of subject s: day s mod 28, month s mod 12, serial s mod 10,000 (210,000 distinct). */
const cprOf = (s: number) => `${String(1 + (s % 28)).padStart(2, '0')}${String(1 + (s % 12)).padStart(2, '0')}80-${String(s % 10_000).padStart(4, '0')}`;

/**
 * The i-th event of the SDK and pipeline benches: MitID core flows round-robin. Privacy on: the CPR
 * number is sealed and an IP address travels as sealed details; off: a pseudonymous subject and no details.
 */
export function benchDisclosure(i: number, privacy: boolean, mix: SubjectMix = 'cold'): DisclosureInput {
  const f = flows[i % flows.length]!;
  const cpr = cprOf(mix === 'cold' ? i : Math.floor(i / flows.length));
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
