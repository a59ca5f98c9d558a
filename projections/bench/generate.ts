/**
 * A realistic synthetic log for benchmarks: N events over S pseudonymous subjects, written through
 * the event store's appendMany in large batches, as the ingest would have stored them.
 *
 *  - Mostly DisclosureRecorded, built from the processing register's declared flows: one business
 *    transaction of an activity (a MitID login, a NemKonto payment, a support contact) discloses to
 *    every recipient a real one would touch; MitID logins are the most frequent, then NemKonto.
 *  - ~2% of transactions carry one undeclared disclosure (a recipient of another activity).
 *  - Consent-based support flows are preceded by ConsentGiven; some consents are withdrawn later,
 *    and some consent-based disclosures happen without consent (compliance alerts).
 *  - ReportViewed (citizens, caseworkers, the DPO), RetentionExpired and ErasureRequested, each
 *    followed by SubjectKeyShredded, in small shares.
 *  - Subjects are `psn_<key>_<hmac>` pseudonyms of synthetic CPR numbers (schemas' pseudonymiser);
 *    activity is skewed: a tenth of the subjects make a third of the transactions.
 *  - Metadata is the ingest's: schema fingerprint, and classification, flow and retention rules (or
 *    the reasons of an undeclared disclosure) from classifyDisclosure.
 *
 * The events are deterministic for a given seed (event ids included). Generation of the next batch
 * overlaps the appends of the previous ones: two appendMany calls are in flight, so the database
 * parses one while it stores the other. The second waits for the first's lock on the log's position
 * counter, so the log keeps the order of the calls (the first one was sent a whole batch earlier).
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { createPostgresEventStore, type AppendRequest, type EventStore, type EventToAppend } from '@sporbar/event-store';
import {
  classifyDisclosure,
  createCodec,
  normaliseCpr,
  register as defaultRegister,
  drawSyntheticCprs,
  type Codec,
  type ConsentScope,
  type DisclosureRecorded,
  type EventMap,
  type EventType,
  type ProcessingActivity,
  type ProcessingRegister,
  type ViewerRole,
} from '@sporbar/schemas';

export interface GenerateOptions {
  /** Where to write: an event store (any adapter), or a `pg` pool of a PostgreSQL database (a postgres store is opened on it). */
  readonly store?: EventStore;
  readonly pool?: pg.Pool;
  /** Schema of the postgres store opened on `pool` (default 'sporbar'). */
  readonly schema?: string;
  /** How many events to write (exactly). */
  readonly events: number;
  /** How many distinct subjects (pseudonyms) the events are about. */
  readonly subjects: number;
  readonly register?: ProcessingRegister;
  readonly codec?: Codec;
  /** Seed of everything random (default 2026). */
  readonly seed?: number;
  /** Events per appendMany (default 5,000). */
  readonly batchSize?: number;
  /** The simulated period (default: the two years up to now); occurredAt grows through it. */
  readonly from?: Date;
  readonly to?: Date;
  /** Share of transactions with one undeclared disclosure (default 0.02). */
  readonly undeclaredShare?: number;
  /** Called after each appended batch with the number of events written so far. */
  readonly onProgress?: (written: number) => void;
}

export interface GenerateResult {
  readonly events: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly byType: Partial<Record<EventType, number>>;
  readonly lastPosition: bigint;
}

/** xorshift32: fast, deterministic, good enough for traffic. */
function createRandom(seed: number) {
  let s = seed >>> 0 || 1;
  const u32 = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const next = () => u32() / 0x100000000;
  return { u32, next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]! };
}
type Random = ReturnType<typeof createRandom>;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
/** A version-4 uuid from the generator's random stream (deterministic for a seed). */
function uuid(rnd: Random): string {
  const a = hex8(rnd.u32());
  const b = hex8(rnd.u32());
  const c = hex8(rnd.u32());
  const d = hex8(rnd.u32());
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${((parseInt(c[0]!, 16) & 3) | 8).toString(16)}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/**
 * `count` distinct synthetic CPR numbers (schemas' drawSyntheticCprs), normalised as the pseudonymiser
 * hashes them (no dash); a seed keeps its subjects.
 */
const syntheticCprs = (count: number, rnd: Random): string[] => drawSyntheticCprs(count, rnd.int).map((cpr) => normaliseCpr(cpr));

/** The bench's pseudonym key: fixed, so the API bench can compute the same pseudonyms. */
export const BENCH_PSEUDONYM_KEY = { id: 'bench', secret: Buffer.alloc(32, 7).toString('base64url') };

/** The pseudonyms of `count` synthetic subjects, exactly as schemas' pseudonymiser (HMAC-SHA256 of the normalised CPR) makes them. */
export function benchPseudonyms(count: number, seed = 2026): string[] {
  const secret = Buffer.from(BENCH_PSEUDONYM_KEY.secret, 'base64url');
  return syntheticCprs(count, createRandom(seed ^ 0x5eed)).map((cpr) => `psn_${BENCH_PSEUDONYM_KEY.id}_${createHmac('sha256', secret).update(cpr).digest('base64url')}`);
}

const SOURCE_SYSTEM: Record<string, string> = {
  'mitid-core': 'mitid-core',
  'mitid-identity-verification': 'mitid-verification',
  'mitid-support': 'mitid-support',
  'nemkonto-register': 'nemkonto',
  'nemkonto-support': 'nemkonto-support',
};
// MitID logins are by far the most frequent transaction, then NemKonto payments, then support.
const WEIGHTS: Record<string, number> = { 'mitid-core': 12, 'nemkonto-register': 6, 'mitid-identity-verification': 1 };

interface Planned {
  readonly activity: ProcessingActivity;
  readonly recipient: DisclosureRecorded['recipient'];
  readonly purpose: string;
  readonly legalBases: DisclosureRecorded['legalBases'];
  readonly dataCategories: string[];
}

/**
 * The metadata the ingest stores with an event: the schema fingerprint and, for a disclosure, its
 * classification against the register (flow and retention rules, or the reasons it is undeclared).
 */
export function storedMetadata<K extends EventType>(register: ProcessingRegister, codec: Codec, type: K, event: EventMap[K]): Record<string, string> {
  const metadata: Record<string, string> = { fingerprint: codec.fingerprintHex(type) };
  if (type !== 'DisclosureRecorded') return metadata;
  const d = event as DisclosureRecorded;
  const c = classifyDisclosure(register, { activity: d.activity, recipient: d.recipient, purpose: d.purpose, legalBases: d.legalBases, dataCategories: d.dataCategories, transfer: d.transfer });
  return c.status === 'declared'
    ? { ...metadata, classification: 'declared', flow: c.flowId, retention: c.retentionRuleIds.join(',') }
    : { ...metadata, classification: 'undeclared', reasons: c.reasons.map((r) => r.code).join(',') };
}

export async function generateEvents(options: GenerateOptions): Promise<GenerateResult> {
  if (!options.store && !options.pool) throw new Error('generateEvents: pass store or pool');
  const register = options.register ?? defaultRegister;
  const codec = options.codec ?? createCodec();
  const store = options.store ?? (await createPostgresEventStore({ pool: options.pool!, ...(options.schema ? { schema: options.schema } : {}) }));
  const seed = options.seed ?? 2026;
  const rnd = createRandom(seed);
  const total = options.events;
  const batchSize = options.batchSize ?? 5000;
  const to = (options.to ?? new Date()).getTime();
  const from = (options.from ?? new Date(to - 2 * 365 * 86_400_000)).getTime();
  const undeclaredShare = options.undeclaredShare ?? 0.02;
  const started = performance.now();

  const subjects = benchPseudonyms(options.subjects, seed);
  const hot = Math.max(1, Math.floor(subjects.length / 10));
  const pickSubject = () => (rnd.next() < 1 / 3 ? subjects[rnd.int(hot)]! : subjects[rnd.int(subjects.length)]!);
  const controllerCvr = register.controllers[0]?.cvr ?? '34051178';
  const weighted = register.activities.flatMap((a) => Array<ProcessingActivity>(WEIGHTS[a.id] ?? 1).fill(a));
  const fingerprints = new Map<string, string>();
  const fingerprint = (t: EventType) => fingerprints.get(t) ?? (fingerprints.set(t, codec.fingerprintHex(t)), fingerprints.get(t)!);

  // The ingest's classification, cached: it depends only on the disclosure's codes.
  const classified = new Map<string, Record<string, string>>();
  const classify = (p: Planned, d: DisclosureRecorded): Record<string, string> => {
    const key = `${p.activity.id}|${p.recipient.id}|${p.recipient.role}|${p.purpose}|${p.legalBases.join(',')}|${p.dataCategories.join(',')}`;
    let m = classified.get(key);
    if (!m) classified.set(key, (m = storedMetadata(register, codec, 'DisclosureRecorded', d)));
    return m;
  };

  // Personal details as the ingest stores them: ciphertext (here random bytes of a typical length).
  const detailsPool = Buffer.alloc(1 << 16);
  for (let i = 0; i < detailsPool.length; i += 4) detailsPool.writeUInt32LE(rnd.u32(), i);
  const details = () => {
    const len = 48 + rnd.int(64);
    const at = rnd.int(detailsPool.length - len);
    return detailsPool.subarray(at, at + len);
  };

  const byType: Partial<Record<EventType, number>> = {};
  let produced = 0;
  // Open consents (subject, activity, scope) that may be withdrawn later.
  const openConsents: Array<{ subject: string; activity: string; scope: ConsentScope }> = [];
  // Recently active (subject, activity) pairs, for retention expiry and erasure.
  const recent: Array<{ subject: string; activity: ProcessingActivity; at: number }> = [];

  let batch: AppendRequest[] = [];
  const push = <K extends EventType>(type: K, subject: string, data: EventMap[K], metadata: Record<string, string>) => {
    const event: EventToAppend = { eventId: (data as { eventId: string }).eventId, type, data: codec.encode(type, data), metadata };
    batch.push({ streamName: `subject-${subject}`, events: [event] });
    produced++;
  };
  const meta = (t: EventType) => ({ fingerprint: fingerprint(t) });

  const micros = (ms: number) => ms * 1000 + rnd.int(1000);

  /** One step of traffic: a transaction (several events) or one of the rarer events. */
  const step = () => {
    // Time moves evenly through the period; producers' clocks disagree by up to a few seconds.
    const now = from + Math.floor(((to - from) * produced) / total);
    const at = () => micros(now - rnd.int(3000));
    const r = rnd.next();
    if (r < 0.04) {
      const subject = rnd.next() < 0.5 && recent.length ? rnd.pick(recent).subject : pickSubject();
      const role: ViewerRole = rnd.pick(['CITIZEN', 'CITIZEN', 'CITIZEN', 'CASEWORKER', 'DPO', 'AUDITOR'] as const);
      const viewerId = role === 'CITIZEN' ? subject : `${role.toLowerCase()}-${rnd.int(200)}`;
      push('ReportViewed', subject, { eventId: uuid(rnd), occurredAt: at(), subject: { scheme: 'PSEUDONYM', value: subject }, viewerId, viewerRole: role, reason: role === 'CITIZEN' ? null : `case-${rnd.int(100_000)}`, view: rnd.pick(['GET /v1/subjects/:ref/disclosures', 'GET /v1/subjects/:ref/recipients', 'GET /v1/subjects/:ref/report']) }, meta('ReportViewed'));
      return;
    }
    if (r < 0.05 && openConsents.length > 0) {
      const i = rnd.int(openConsents.length);
      const c = openConsents[i]!;
      openConsents[i] = openConsents.at(-1)!;
      openConsents.pop();
      push('ConsentWithdrawn', c.subject, { eventId: uuid(rnd), occurredAt: at(), sourceSystem: SOURCE_SYSTEM[c.activity] ?? c.activity, activity: c.activity, subject: { scheme: 'PSEUDONYM', value: c.subject }, scope: c.scope }, meta('ConsentWithdrawn'));
      return;
    }
    if (r < 0.056 && recent.length > 0) {
      // The retention worker: a (subject, activity) whose rules ran out; the ingest shreds the key.
      const x = recent[rnd.int(recent.length)]!;
      const ruleId = x.activity.retentionRuleIds[rnd.int(x.activity.retentionRuleIds.length)]!;
      const expiredId = uuid(rnd);
      const t = at();
      push('RetentionExpired', x.subject, { eventId: expiredId, occurredAt: t, subject: { scheme: 'PSEUDONYM', value: x.subject }, activity: x.activity.id, retentionRule: ruleId, coversUntil: x.at }, meta('RetentionExpired'));
      push('SubjectKeyShredded', x.subject, { eventId: uuid(rnd), occurredAt: t + 1000, subject: { scheme: 'PSEUDONYM', value: x.subject }, keyId: `${x.activity.id}`, cause: 'RETENTION_EXPIRED', causationEventId: expiredId }, meta('SubjectKeyShredded'));
      return;
    }
    if (r < 0.0565) {
      const subject = recent.length ? rnd.pick(recent).subject : pickSubject();
      const erasureId = uuid(rnd);
      const t = at();
      push('ErasureRequested', subject, { eventId: erasureId, occurredAt: t, sourceSystem: 'mitid-support', subject: { scheme: 'PSEUDONYM', value: subject }, activity: null, reason: 'citizen request' }, meta('ErasureRequested'));
      push('SubjectKeyShredded', subject, { eventId: uuid(rnd), occurredAt: t + 1000, subject: { scheme: 'PSEUDONYM', value: subject }, keyId: 'all', cause: 'ERASURE_REQUESTED', causationEventId: erasureId }, meta('SubjectKeyShredded'));
      return;
    }
    // A business transaction.
    const subject = pickSubject();
    const activity = rnd.pick(weighted);
    const occurredAt = at();
    const correlationId = `${activity.id}-${produced}`;
    const flows = activity.flows.filter((f) => f.consentScopes.length === 0 || rnd.next() < 0.3);
    const planned: Planned[] = flows.map((f) => ({
      activity,
      recipient: { id: f.recipientId, role: f.roles[0] },
      purpose: rnd.pick(f.purposeIds),
      legalBases: [...f.legalBases],
      dataCategories: f.categoryIds.filter((_, i) => i === 0 || rnd.next() < 0.3),
    }));
    // Consent first (mostly; sometimes the producer forgets, which the compliance view shows).
    for (const scope of new Set(flows.flatMap((f) => f.consentScopes.slice(0, 1)))) {
      if (rnd.next() < 0.1) continue;
      push('ConsentGiven', subject, { eventId: uuid(rnd), occurredAt: occurredAt - 1, sourceSystem: SOURCE_SYSTEM[activity.id] ?? activity.id, activity: activity.id, subject: { scheme: 'PSEUDONYM', value: subject }, scope }, meta('ConsentGiven'));
      if (openConsents.length < 100_000) openConsents.push({ subject, activity: activity.id, scope });
    }
    if (rnd.next() < undeclaredShare) {
      const other = rnd.pick(register.activities.filter((a) => a.id !== activity.id));
      const flow = rnd.pick(other.flows);
      if (!activity.flows.some((f) => f.recipientId === flow.recipientId)) {
        planned.push({ activity, recipient: { id: flow.recipientId, role: flow.roles[0] }, purpose: rnd.pick(activity.purposeIds), legalBases: [...activity.legalBases], dataCategories: [rnd.pick(activity.categoryIds)] });
      }
    }
    for (const p of planned) {
      const d: DisclosureRecorded = {
        eventId: uuid(rnd),
        occurredAt,
        sourceSystem: SOURCE_SYSTEM[activity.id] ?? activity.id,
        controllerCvr,
        activity: activity.id,
        subject: { scheme: 'PSEUDONYM', value: subject },
        recipient: p.recipient,
        purpose: p.purpose,
        legalBases: p.legalBases,
        dataCategories: p.dataCategories,
        transfer: null,
        personalDetails: rnd.next() < 0.3 ? details() : null,
        correlationId,
      };
      push('DisclosureRecorded', subject, d, classify(p, d));
    }
    if (recent.length < 50_000) recent.push({ subject, activity, at: occurredAt });
    else recent[rnd.int(recent.length)] = { subject, activity, at: occurredAt };
  };

  const inFlight: Array<Promise<void>> = [];
  let written = 0;
  let lastPosition = 0n;
  while (produced < total) {
    while (produced < total && batch.length < batchSize) step();
    // A transaction may overshoot the requested count: cut it off exactly.
    if (produced > total) {
      batch.length -= produced - total;
      produced = total;
    }
    const out = batch;
    batch = [];
    for (const r of out) byType[r.events[0]!.type as EventType] = (byType[r.events[0]!.type as EventType] ?? 0) + 1;
    if (inFlight.length >= 2) await inFlight.shift();
    const appended = store.appendMany(out).then((results) => {
      written += out.length;
      for (const r of results) if (r.lastPosition > lastPosition) lastPosition = r.lastPosition;
      options.onProgress?.(written);
    });
    appended.catch(() => undefined); // awaited below; a failure while the other call runs must not go unhandled
    inFlight.push(appended);
  }
  await Promise.all(inFlight);
  if (!options.store) await store.close();
  const seconds = (performance.now() - started) / 1000;
  return { events: written, seconds, perSecond: written / seconds, byType, lastPosition };
}
