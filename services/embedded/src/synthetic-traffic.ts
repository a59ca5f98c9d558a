import { drawSyntheticCprs, type ConsentScope, type ProcessingActivity, type ProcessingRegister } from '@sporbar/schemas';
import type { DisclosureInput, Producer } from '@sporbar/producer';

/**
 * Realistic synthetic traffic generated from the processing register itself: a MitID login
 * discloses to the broker, Akamai and Nets DanID; a NemKonto payment to the banks, the accounting
 * centre, the Tax Authority ...; a support call with consent to recording. Every flow of every
 * activity is exercised, and a small share of disclosures are deliberately undeclared so the
 * compliance view has something to show. Deterministic for a given seed.
 */
export interface TrafficOptions {
  readonly subjects: number;
  readonly transactions: number;
  /** Seed of the transaction mix (default 2026). */
  readonly seed?: number;
  /** Seed of the subject population (default 2026): keep it fixed to add traffic for the same people. */
  readonly subjectSeed?: number;
  /** Share of transactions that contain one undeclared disclosure (default 0.02). */
  readonly undeclaredShare?: number;
  /** Start of the simulated period (default 90 days ago); events are spread evenly up to now. */
  readonly from?: Date;
}

export function createRandom(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

/**
 * `count` distinct synthetic CPR numbers (schemas' drawSyntheticCprs, DDMMYY-SSSS), the same for a
 * seed (so a data directory seeded earlier keeps its citizens).
 */
export function syntheticCprs(count: number, seed = 7): string[] {
  return drawSyntheticCprs(count, createRandom(seed).int);
}

/** One business transaction of an activity: every flow of the activity that a real one would touch. */
type PlannedDisclosure = Omit<DisclosureInput, 'subject' | 'occurredAt'>;

/**
 * One business transaction of an activity: every flow a real one would touch. Consent-based flows
 * (call recording, screen sharing, surveys) happen only in some support contacts, with the consent
 * they rest on recorded first.
 */
export function transactionDisclosures(activity: ProcessingActivity, rnd: ReturnType<typeof createRandom>): { planned: PlannedDisclosure[]; consents: ConsentScope[] } {
  const flows = activity.flows.filter((f) => f.consentScopes.length === 0 || rnd.next() < 0.3);
  return {
    planned: flows.map((f) => ({
      activity: activity.id,
      recipient: { id: f.recipientId, role: f.roles[0] },
      purpose: rnd.pick(f.purposeIds),
      legalBases: [...f.legalBases],
      dataCategories: f.categoryIds.filter((_, i) => i === 0 || rnd.next() < 0.7),
    })),
    consents: [...new Set(flows.flatMap((f) => f.consentScopes.slice(0, 1)))],
  };
}

export async function generateTraffic(producer: Producer, register: ProcessingRegister, options: TrafficOptions): Promise<{ disclosures: number; consents: number }> {
  const rnd = createRandom(options.seed ?? 2026);
  const cprs = syntheticCprs(options.subjects, options.subjectSeed ?? 2026);
  const from = (options.from ?? new Date(Date.now() - 90 * 86_400_000)).getTime();
  const span = Date.now() - from;
  // MitID logins are by far the most frequent transaction, then NemKonto payments, then support.
  const weights: Record<string, number> = { 'mitid-core': 6, 'nemkonto-register': 3 };
  const weighted = register.activities.flatMap((a) => Array<ProcessingActivity>(weights[a.id] ?? 1).fill(a));
  const undeclaredShare = options.undeclaredShare ?? 0.02;
  let disclosures = 0;
  let consents = 0;
  for (let t = 0; t < options.transactions; t++) {
    const cpr = rnd.pick(cprs);
    const activity = rnd.pick(weighted);
    const occurredAt = new Date(from + Math.floor((span * t) / options.transactions));
    const correlationId = `${activity.id}-${t}`;
    const { planned, consents: scopes } = transactionDisclosures(activity, rnd);
    for (const scope of scopes) {
      await producer.giveConsent({ subject: { cpr }, activity: activity.id, scope, occurredAt });
      consents++;
    }
    if (rnd.next() < undeclaredShare) {
      // A disclosure the notices do not cover: a recipient of another activity.
      const other = rnd.pick(register.activities.filter((a) => a.id !== activity.id));
      const flow = rnd.pick(other.flows);
      if (!activity.flows.some((f) => f.recipientId === flow.recipientId)) {
        planned.push({ activity: activity.id, recipient: { id: flow.recipientId, role: flow.roles[0] }, purpose: rnd.pick(activity.purposeIds), legalBases: [...activity.legalBases], dataCategories: [rnd.pick(activity.categoryIds)] });
      }
    }
    for (const d of planned) {
      await producer.recordDisclosure({ ...d, subject: { cpr }, occurredAt, correlationId });
      disclosures++;
    }
  }
  await producer.flush();
  return { disclosures, consents };
}
