import type { Codec, DisclosureRecorded, SubjectMapCommitted } from '@sporbar/schemas';
import { leafHash as rfcLeafHash, verifyInclusion } from '../merkle/rfc9162.ts';
import { checkCheckpointPolicy, decodeBase64Strict, type TlogPolicy, type WitnessCheck } from '../note/index.ts';
import { checkSubjectList, decodeMapProof, type MapProof, type SubjectListFailure } from './proof.ts';

/**
 * A citizen's subject map proof bundle (issue 22, docs/subject-map.md), pure: what GET
 * /v1/me/subject-map answers (and the `subjectMap` of a report.json copy), its strict parser, and its
 * verification — "these are all the disclosures about me the log holds, up to a tree size".
 *
 *   {
 *     "format": "sporbar-subject-map-proof/1",
 *     "origin": "sporbar.v1/<logId>",
 *     "checkpoint": "<signed C2SP checkpoint note: log signature, then any witness cosignatures>",
 *     "commitment": { "leafIndex": n, "event": "<base64 SubjectMapCommitted bytes>", "inclusionProof": ["<base64 32 B>", …] },
 *     "subjects": [ { "index": "<64 hex>", "proof": "<base64 encodeMapProof>",
 *                     "leaves": [ { "eventId", "leafIndex", "leafHash": "<base64 32 B>", "event": "<base64 DisclosureRecorded bytes>" }, … ] } ],
 *     "pending": [ { "eventId", "leafIndex": n | null } ]
 *   }
 *
 * Verification, in order (the first failure is the answer):
 *   1. the checkpoint verifies under the policy (the log's signature, the witnesses, the quorum, the origin);
 *   2. the commitment's leaf hash SHA-256(0x00 ‖ event) is included at leafIndex in the checkpoint's tree;
 *   3. the event is a SubjectMapCommitted whose treeSize ≤ leafIndex (a map cannot cover its own commitment),
 *      committed (its occurredAt) at most maxAgeSeconds ago (default 7 h: the checkpointer's 6 h heartbeat + 1 h)
 *      and at most 10 minutes in the future — an older map could hide newer disclosures (`stale`);
 *   4. per subject: each leaf's bytes hash to its leafHash and are a DisclosureRecorded with that eventId,
 *      and checkSubjectList(rootHash, index, proof, leaves, { treeSize }) holds; every leaf of one subject
 *      names the same pseudonym, and no two subjects share one;
 *   5. every pending item is not yet covered by the map (leafIndex null or ≥ treeSize);
 *   6. optionally, the eventIds a report lists are exactly the bundle's leaves and pending items.
 */

export const SUBJECT_MAP_BUNDLE_FORMAT = 'sporbar-subject-map-proof/1';

export interface SubjectMapBundleLeaf {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly leafHash: Buffer;
  /** The stored DisclosureRecorded bytes (Avro single-object encoding). */
  readonly event: Buffer;
}

export interface SubjectMapBundleSubject {
  /** The 32-byte map index. */
  readonly index: Buffer;
  /** The encoded map proof (encodeMapProof) as it came, and decoded. */
  readonly proofBytes: Buffer;
  readonly proof: MapProof;
  readonly leaves: readonly SubjectMapBundleLeaf[];
}

export interface SubjectMapBundlePending {
  readonly eventId: string;
  /** Its position in the log, or null when it is not in the log yet. */
  readonly leafIndex: number | null;
}

export interface SubjectMapBundle {
  readonly format: typeof SUBJECT_MAP_BUNDLE_FORMAT;
  readonly origin: string;
  readonly checkpoint: string;
  readonly commitment: { readonly leafIndex: number; readonly event: Buffer; readonly inclusionProof: readonly Buffer[] };
  readonly subjects: readonly SubjectMapBundleSubject[];
  readonly pending: readonly SubjectMapBundlePending[];
}

/** The bundle as JSON (what the access API serves and a report.json copy embeds). */
export interface SubjectMapBundleJson {
  format: typeof SUBJECT_MAP_BUNDLE_FORMAT;
  origin: string;
  checkpoint: string;
  commitment: { leafIndex: number; event: string; inclusionProof: string[] };
  subjects: Array<{ index: string; proof: string; leaves: Array<{ eventId: string; leafIndex: number; leafHash: string; event: string }> }>;
  pending: Array<{ eventId: string; leafIndex: number | null }>;
}

export class SubjectMapBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubjectMapBundleError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32 = /^[0-9a-f]{64}$/;
/** An inclusion path in a tree of at most 2^63 leaves has at most 63 hashes (as for tlog-proof). */
const MAX_PATH = 63;

type Json = Record<string, unknown>;

function object(v: unknown, where: string, keys: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SubjectMapBundleError(`${where} must be an object`);
  const extra = Object.keys(v).filter((k) => !keys.includes(k));
  if (extra.length) throw new SubjectMapBundleError(`${where} has an unknown field ${JSON.stringify(extra[0])}`);
  const missing = keys.filter((k) => !(k in v));
  if (missing.length) throw new SubjectMapBundleError(`${where} lacks ${JSON.stringify(missing[0])}`);
  return v as Json;
}

function array(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new SubjectMapBundleError(`${where} must be an array`);
  return v;
}

function position(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new SubjectMapBundleError(`${where} must be a non-negative integer`);
  return v;
}

function bytes(v: unknown, where: string, length?: number): Buffer {
  const b = typeof v === 'string' ? decodeBase64Strict(v) : undefined;
  if (!b) throw new SubjectMapBundleError(`${where} must be canonical base64`);
  if (length !== undefined && b.length !== length) throw new SubjectMapBundleError(`${where} must be base64 of ${length} bytes`);
  return b;
}

function uuid(v: unknown, where: string): string {
  if (typeof v !== 'string' || !UUID.test(v)) throw new SubjectMapBundleError(`${where} must be a lowercase UUID`);
  return v;
}

/**
 * Parses a bundle strictly — its JSON text or bytes, or the already-parsed JSON value: every field
 * present and of its type, no unknown field, canonical base64, lowercase hex and UUIDs, the map proofs
 * decoded (decodeMapProof's strictness). Checks nothing cryptographic. Throws SubjectMapBundleError.
 */
export function parseSubjectMapBundle(input: unknown): SubjectMapBundle {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (err) {
      throw new SubjectMapBundleError(`not JSON: ${(err as Error).message}`);
    }
  }
  const o = object(value, 'the bundle', ['format', 'origin', 'checkpoint', 'commitment', 'subjects', 'pending']);
  if (o['format'] !== SUBJECT_MAP_BUNDLE_FORMAT) throw new SubjectMapBundleError(`the format must be ${SUBJECT_MAP_BUNDLE_FORMAT}`);
  if (typeof o['origin'] !== 'string' || o['origin'] === '') throw new SubjectMapBundleError('the origin must be a non-empty string');
  if (typeof o['checkpoint'] !== 'string' || o['checkpoint'] === '') throw new SubjectMapBundleError('the checkpoint must be the signed note text');
  const c = object(o['commitment'], 'the commitment', ['leafIndex', 'event', 'inclusionProof']);
  const path = array(c['inclusionProof'], 'the commitment inclusionProof').map((h, i) => bytes(h, `inclusionProof[${i}]`, 32));
  if (path.length > MAX_PATH) throw new SubjectMapBundleError(`an inclusion proof has at most ${MAX_PATH} hashes`);
  const commitment = { leafIndex: position(c['leafIndex'], 'the commitment leafIndex'), event: bytes(c['event'], 'the commitment event'), inclusionProof: path };
  const subjects = array(o['subjects'], 'subjects').map((s, i): SubjectMapBundleSubject => {
    const where = `subjects[${i}]`;
    const so = object(s, where, ['index', 'proof', 'leaves']);
    if (typeof so['index'] !== 'string' || !HEX32.test(so['index'])) throw new SubjectMapBundleError(`${where}.index must be 64 lowercase hex digits`);
    const proofBytes = bytes(so['proof'], `${where}.proof`);
    let proof: MapProof;
    try {
      proof = decodeMapProof(proofBytes);
    } catch (err) {
      throw new SubjectMapBundleError(`${where}.proof: ${(err as Error).message}`);
    }
    const leaves = array(so['leaves'], `${where}.leaves`).map((l, j): SubjectMapBundleLeaf => {
      const lw = `${where}.leaves[${j}]`;
      const lo = object(l, lw, ['eventId', 'leafIndex', 'leafHash', 'event']);
      return { eventId: uuid(lo['eventId'], `${lw}.eventId`), leafIndex: position(lo['leafIndex'], `${lw}.leafIndex`), leafHash: bytes(lo['leafHash'], `${lw}.leafHash`, 32), event: bytes(lo['event'], `${lw}.event`) };
    });
    return { index: Buffer.from(so['index'], 'hex'), proofBytes, proof, leaves };
  });
  const pending = array(o['pending'], 'pending').map((p, i): SubjectMapBundlePending => {
    const po = object(p, `pending[${i}]`, ['eventId', 'leafIndex']);
    return { eventId: uuid(po['eventId'], `pending[${i}].eventId`), leafIndex: po['leafIndex'] === null ? null : position(po['leafIndex'], `pending[${i}].leafIndex`) };
  });
  return { format: SUBJECT_MAP_BUNDLE_FORMAT, origin: o['origin'], checkpoint: o['checkpoint'], commitment, subjects, pending };
}

/** The JSON form of a bundle (the inverse of parseSubjectMapBundle). */
export function formatSubjectMapBundle(b: SubjectMapBundle): SubjectMapBundleJson {
  return {
    format: SUBJECT_MAP_BUNDLE_FORMAT,
    origin: b.origin,
    checkpoint: b.checkpoint,
    commitment: { leafIndex: b.commitment.leafIndex, event: b.commitment.event.toString('base64'), inclusionProof: b.commitment.inclusionProof.map((h) => h.toString('base64')) },
    subjects: b.subjects.map((s) => ({
      index: s.index.toString('hex'),
      proof: s.proofBytes.toString('base64'),
      leaves: s.leaves.map((l) => ({ eventId: l.eventId, leafIndex: l.leafIndex, leafHash: l.leafHash.toString('base64'), event: l.event.toString('base64') })),
    })),
    pending: b.pending.map((p) => ({ eventId: p.eventId, leafIndex: p.leafIndex })),
  };
}

export type SubjectMapBundleFailure =
  /** Not a bundle of this format (the parser's words in `detail`). */
  | 'malformed'
  /** 1. The checkpoint is not a signed checkpoint note. */
  | 'checkpoint-malformed'
  /** 1. The checkpoint is not signed by the log (or by another log than the bundle names). */
  | 'log-signature'
  /** 1. Too few of the policy's witnesses cosigned the checkpoint. */
  | 'quorum'
  /** 2. The commitment's leafIndex is not inside the checkpoint's tree. */
  | 'commitment-outside'
  /** 2. The commitment's inclusion proof does not lead to the checkpoint's root. */
  | 'commitment-not-included'
  /** 3. The commitment's bytes are not a SubjectMapCommitted. */
  | 'commitment-undecodable'
  /** 3. The map claims to cover entries at or after its own commitment. */
  | 'commitment-ahead'
  /** 3. The map is older than the log's commitment cadence allows (newer disclosures may be missing), or dated in the future. */
  | 'stale'
  /** 4. A leaf's bytes do not hash to its leafHash. */
  | 'leaf-hash'
  /** 4. A leaf's bytes are not a DisclosureRecorded about a pseudonym with its eventId. */
  | 'leaf-event'
  /** 4. checkSubjectList's reasons: bad-proof, reordered, duplicate, beyond-size, missing, extra, substituted. */
  | SubjectListFailure
  /** 4. The leaves of one subject name different pseudonyms, or two subjects the same index or pseudonym. */
  | 'mixed-subjects'
  /** 5. A pending item is at a position the map covers: it should be in a chain. */
  | 'pending-covered'
  /** 4/5. One eventId twice in the bundle (two leaves, or a leaf and a pending item). */
  | 'listed-twice'
  /** 6. The report lists a disclosure that is in no chain and not pending: left out of the map. */
  | 'left-out-of-map'
  /** 6. The bundle holds a disclosure the report does not list: missing from the report. */
  | 'missing-from-report';

export interface SubjectMapSubjectResult {
  /** The map index, hex. */
  readonly index: string;
  /** How many disclosures the map holds for it, each in the list. */
  readonly count: number;
}

export type SubjectMapBundleVerdict =
  | {
      readonly ok: true;
      readonly origin: string;
      /** The checkpoint's tree size. */
      readonly checkpointSize: number;
      /** The commitment's position in the log. */
      readonly commitmentIndex: number;
      /** When the map was committed (its occurredAt, ISO 8601): the list is complete as of then. */
      readonly committedAt: string;
      /** The map covers the log's entries 0 .. treeSize-1. */
      readonly treeSize: number;
      /** How many disclosures are proven complete (the sum over the subjects). */
      readonly proven: number;
      readonly subjects: readonly SubjectMapSubjectResult[];
      readonly pending: readonly SubjectMapBundlePending[];
      readonly witnesses: readonly WitnessCheck[];
      readonly quorum: string;
      /** Whether step 6 ran (a report's list was given). */
      readonly listChecked: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: SubjectMapBundleFailure;
      /** What is wrong, in plain words. */
      readonly detail: string;
      /** The subject (position in `subjects`) it concerns, when one. */
      readonly subject?: number;
      /** The leaf (position in that subject's `leaves`) it concerns, when one. */
      readonly at?: number;
      readonly eventId?: string;
      /** For missing / extra / substituted: how many the map holds and how many are listed. */
      readonly committed?: number;
      readonly listed?: number;
      /** For stale: when the map was committed (ISO 8601). */
      readonly committedAt?: string;
      readonly witnesses: readonly WitnessCheck[];
    };

export interface VerifySubjectMapOptions {
  /** The log's origin the citizen expects (else the policy's logs decide). */
  readonly origin?: string;
  /** The eventIds a report lists (e.g. the `disclosures` of a report.json copy): step 6. */
  readonly listed?: readonly string[];
  /** The time to judge the map's age by (ms since the epoch, or a Date). Default: now. */
  readonly now?: number | Date;
  /** The oldest map accepted, in seconds (0: do not check its age). Default SUBJECT_MAP_MAX_AGE_SECONDS. */
  readonly maxAgeSeconds?: number;
}

/**
 * The oldest map a verifier accepts by default: the checkpointer's heartbeat (6 h, the most
 * SPORBAR_SUBJECT_MAP_HEARTBEAT_SECONDS allows) and an hour for the checkpoint, the witnesses, the clocks.
 */
export const SUBJECT_MAP_MAX_AGE_SECONDS = 7 * 3600;
/** How far in the future a map's time may be (clock differences) before it is refused. */
export const SUBJECT_MAP_MAX_FUTURE_SECONDS = 600;

/** A time as `2026-12-07 11:49 UTC` (to the minute). */
export function formatMapTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A duration in words, to the minute: `9 h 12 min`, `45 min`, `2 d 3 h`. */
function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d} d${h ? ` ${h} h` : ''}`;
  if (h > 0) return `${h} h${m ? ` ${m} min` : ''}`;
  return `${m} min`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function subjectListWords(r: { reason: SubjectListFailure; committed?: number; listed?: number; at?: number }, leaves: readonly SubjectMapBundleLeaf[], treeSize: number): string {
  const at = r.at === undefined ? undefined : leaves[r.at];
  switch (r.reason) {
    case 'bad-proof':
      return 'the map proof does not lead to the map root the log committed to';
    case 'missing':
      return `${plural(r.committed! - r.listed!, 'disclosure')} that the log's map holds ${r.committed! - r.listed! === 1 ? 'is' : 'are'} not in the list (the map holds ${r.committed}, the list ${r.listed})`;
    case 'extra':
      return `the list holds ${plural(r.listed! - r.committed!, 'disclosure')} more than the log's map has (the list ${r.listed}, the map ${r.committed}): not about this subject, or not in the log there`;
    case 'substituted':
      return `as many disclosures as the log's map holds (${r.committed}), but not the same ones`;
    case 'reordered':
      return `the list is not in the log's order: entry ${at?.leafIndex} comes after entry ${leaves[r.at! - 1]?.leafIndex}`;
    case 'duplicate':
      return `entry ${at?.leafIndex} is listed twice`;
    case 'beyond-size':
      return `entry ${at?.leafIndex} is listed as covered by the map, which covers only entries 0..${treeSize - 1}`;
  }
}

/**
 * Verifies a bundle (its JSON text, bytes or parsed JSON value) under a policy, decoding events with
 * the schemas' codec. Pure. The first failing check is the answer, with a typed reason and plain words.
 */
export function verifySubjectMapBundle(input: unknown, policy: TlogPolicy, codec: Codec, options: VerifySubjectMapOptions = {}): SubjectMapBundleVerdict {
  let b: SubjectMapBundle;
  try {
    b = parseSubjectMapBundle(input);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `not a subject map proof bundle: ${(err as Error).message}`, witnesses: [] };
  }
  // 1. The checkpoint, under the policy.
  const expected = options.origin ?? b.origin;
  if (options.origin !== undefined && b.origin !== options.origin) {
    return { ok: false, reason: 'log-signature', detail: `the bundle is about log ${b.origin}, not ${options.origin}`, witnesses: [] };
  }
  const cp = checkCheckpointPolicy(b.checkpoint, policy, { origin: expected });
  if (!cp.ok) {
    const reason = cp.failure === 'malformed' ? 'checkpoint-malformed' : cp.failure;
    return { ok: false, reason, detail: cp.reason, witnesses: cp.witnesses };
  }
  const { witnesses } = cp;
  const { size, root } = cp.checkpoint;
  // 2. The commitment is a leaf of the checkpoint's tree.
  const c = b.commitment;
  if (c.leafIndex >= size) return { ok: false, reason: 'commitment-outside', detail: `the map's commitment is said to be entry ${c.leafIndex}, outside the checkpoint's tree of ${size} entries`, witnesses };
  if (!verifyInclusion(c.leafIndex, size, rfcLeafHash(c.event), c.inclusionProof, root)) {
    return { ok: false, reason: 'commitment-not-included', detail: `the map's commitment is not in the log at entry ${c.leafIndex}: its inclusion proof does not lead to the checkpoint's root`, witnesses };
  }
  // 3. It is a SubjectMapCommitted, for a size before itself.
  let committed: SubjectMapCommitted;
  try {
    const d = codec.decode(c.event);
    if (d.eventType !== 'SubjectMapCommitted') throw new Error(`it is a ${d.eventType}`);
    committed = d.event as SubjectMapCommitted;
  } catch (err) {
    return { ok: false, reason: 'commitment-undecodable', detail: `entry ${c.leafIndex} is not a map commitment (SubjectMapCommitted): ${(err as Error).message}`, witnesses };
  }
  const treeSize = committed.treeSize;
  if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > c.leafIndex) {
    return { ok: false, reason: 'commitment-ahead', detail: `the map committed at entry ${c.leafIndex} claims to cover ${treeSize} entries, which includes itself or later entries`, witnesses };
  }
  // …and recent: a map older than the heartbeat allows could leave out everything after it.
  const committedMs = Math.floor(Number(committed.occurredAt) / 1000);
  if (!Number.isFinite(committedMs) || Math.abs(committedMs) > 8.64e15) {
    return { ok: false, reason: 'commitment-undecodable', detail: `entry ${c.leafIndex} is a map commitment without a valid time`, witnesses };
  }
  const committedAt = new Date(committedMs).toISOString();
  const maxAge = options.maxAgeSeconds ?? SUBJECT_MAP_MAX_AGE_SECONDS;
  if (!(maxAge >= 0) || !Number.isFinite(maxAge)) throw new RangeError(`maxAgeSeconds must be a number ≥ 0 (0: no check), got ${maxAge}`);
  if (maxAge > 0) {
    const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
    if (now - committedMs > maxAge * 1000) {
      return {
        ok: false,
        reason: 'stale',
        committedAt,
        detail: `the map is from ${formatMapTime(committedMs)}, older than the log's commitment cadence allows (at most ${formatDuration(maxAge * 1000)}; it is ${formatDuration(now - committedMs)} old): newer disclosures may be missing`,
        witnesses,
      };
    }
    if (committedMs - now > SUBJECT_MAP_MAX_FUTURE_SECONDS * 1000) {
      return {
        ok: false,
        reason: 'stale',
        committedAt,
        detail: `the map is dated ${formatMapTime(committedMs)}, ${formatDuration(committedMs - now)} after this clock's ${formatMapTime(now)}: this clock or the log's is wrong, so the map's age cannot be judged`,
        witnesses,
      };
    }
  }
  const mapRoot = Buffer.from(committed.rootHash);
  // 4. Each subject's leaves are exactly what the map holds for it.
  const seen = new Set<string>();
  const indexes = new Set<string>();
  const pseudonyms = new Map<string, number>();
  const results: SubjectMapSubjectResult[] = [];
  for (let s = 0; s < b.subjects.length; s++) {
    const subject = b.subjects[s]!;
    const hex = subject.index.toString('hex');
    if (indexes.has(hex)) return { ok: false, reason: 'mixed-subjects', subject: s, detail: `subject ${s + 1} has the same map index as an earlier one`, witnesses };
    indexes.add(hex);
    let pseudonym: string | undefined;
    let mixedAt: number | undefined;
    for (let i = 0; i < subject.leaves.length; i++) {
      const leaf = subject.leaves[i]!;
      const where = `disclosure ${leaf.eventId} (entry ${leaf.leafIndex})`;
      if (seen.has(leaf.eventId)) return { ok: false, reason: 'listed-twice', subject: s, at: i, eventId: leaf.eventId, detail: `${where} is in the bundle twice`, witnesses };
      seen.add(leaf.eventId);
      if (!rfcLeafHash(leaf.event).equals(leaf.leafHash)) {
        return { ok: false, reason: 'leaf-hash', subject: s, at: i, eventId: leaf.eventId, detail: `${where}: its bytes are not the ones its leaf hash is of`, witnesses };
      }
      let event: DisclosureRecorded;
      try {
        const d = codec.decode(leaf.event);
        if (d.eventType !== 'DisclosureRecorded') throw new Error(`it is a ${d.eventType}`);
        event = d.event as DisclosureRecorded;
      } catch (err) {
        return { ok: false, reason: 'leaf-event', subject: s, at: i, eventId: leaf.eventId, detail: `${where} is not a recorded disclosure: ${(err as Error).message}`, witnesses };
      }
      if (event.eventId !== leaf.eventId) {
        return { ok: false, reason: 'leaf-event', subject: s, at: i, eventId: leaf.eventId, detail: `${where}: its bytes are disclosure ${event.eventId}, another one`, witnesses };
      }
      if (event.subject.scheme !== 'PSEUDONYM') {
        return { ok: false, reason: 'leaf-event', subject: s, at: i, eventId: leaf.eventId, detail: `${where} names its subject as ${event.subject.scheme}, not by a pseudonym as stored disclosures do`, witnesses };
      }
      if (i === 0) pseudonym = event.subject.value;
      // Reported after the list check below: when the list holds, the map itself mixes two pseudonyms.
      else if (event.subject.value !== pseudonym && mixedAt === undefined) mixedAt = i;
    }
    const r = checkSubjectList(mapRoot, subject.index, subject.proof, subject.leaves.map((l) => ({ logIndex: l.leafIndex, leafHash: l.leafHash })), { treeSize });
    if (!r.ok) {
      return {
        ok: false,
        reason: r.reason,
        subject: s,
        ...(r.at === undefined ? {} : { at: r.at, eventId: subject.leaves[r.at]!.eventId }),
        ...(r.committed === undefined ? {} : { committed: r.committed }),
        ...(r.listed === undefined ? {} : { listed: r.listed }),
        detail: `${b.subjects.length > 1 ? `subject ${s + 1} of ${b.subjects.length}: ` : ''}${subjectListWords(r, subject.leaves, treeSize)}`,
        witnesses,
      };
    }
    if (mixedAt !== undefined) {
      const i = mixedAt;
      return { ok: false, reason: 'mixed-subjects', subject: s, at: i, eventId: subject.leaves[i]!.eventId, detail: `the map holds disclosure ${subject.leaves[i]!.eventId} under the same index as disclosures about another pseudonym`, witnesses };
    }
    if (pseudonym !== undefined) {
      const other = pseudonyms.get(pseudonym);
      if (other !== undefined) return { ok: false, reason: 'mixed-subjects', subject: s, detail: `subjects ${other + 1} and ${s + 1} are the same pseudonym under two map indexes`, witnesses };
      pseudonyms.set(pseudonym, s);
    }
    results.push({ index: hex, count: r.count });
  }
  // 5. Pending items are not yet covered by the map.
  for (const p of b.pending) {
    if (seen.has(p.eventId)) return { ok: false, reason: 'listed-twice', eventId: p.eventId, detail: `disclosure ${p.eventId} is in the bundle twice`, witnesses };
    seen.add(p.eventId);
    if (p.leafIndex !== null && p.leafIndex < treeSize) {
      return { ok: false, reason: 'pending-covered', eventId: p.eventId, detail: `disclosure ${p.eventId} is said to be not yet covered by the map, but it is entry ${p.leafIndex}, which the map covers (entries 0..${treeSize - 1}): it should be in the list the map proves`, witnesses };
    }
  }
  // 6. The report's list is the bundle's leaves and pending items.
  if (options.listed) {
    const listed = new Set<string>();
    for (const id of options.listed) {
      if (listed.has(id)) return { ok: false, reason: 'listed-twice', eventId: id, detail: `the report lists disclosure ${id} twice`, witnesses };
      listed.add(id);
    }
    const leftOut = [...listed].filter((id) => !seen.has(id));
    if (leftOut.length) {
      return { ok: false, reason: 'left-out-of-map', eventId: leftOut[0]!, listed: leftOut.length, detail: `the report lists ${plural(leftOut.length, 'disclosure')} that the map proof leaves out (in no chain and not pending): ${leftOut.join(', ')}`, witnesses };
    }
    const missing = [...seen].filter((id) => !listed.has(id));
    if (missing.length) {
      return { ok: false, reason: 'missing-from-report', eventId: missing[0]!, committed: missing.length, detail: `${plural(missing.length, 'disclosure')} the map proof holds ${missing.length === 1 ? 'is' : 'are'} missing from the report: ${missing.join(', ')}`, witnesses };
    }
  }
  return {
    ok: true,
    origin: cp.checkpoint.origin,
    checkpointSize: size,
    commitmentIndex: c.leafIndex,
    committedAt,
    treeSize,
    proven: results.reduce((n, r) => n + r.count, 0),
    subjects: results,
    pending: b.pending,
    witnesses,
    quorum: cp.quorum,
    listChecked: options.listed !== undefined,
  };
}

/** A verdict in plain English, one fact a line (what `sporbar-audit verify-proof` prints). */
export function describeSubjectMapVerdict(v: SubjectMapBundleVerdict): string {
  const witnessLines = v.witnesses.map((w) => `  ${w.name}: ${w.status === 'cosigned' ? `cosigned at ${w.time}` : w.status === 'absent' ? 'no cosignature' : `invalid (${w.reason})`}`);
  const witnessBlock = witnessLines.length ? ['witnesses:', ...witnessLines] : [];
  if (!v.ok) return `${[`NOT PROVEN COMPLETE: ${v.detail}`, ...witnessBlock].join('\n')}\n`;
  const cosigned = v.witnesses.filter((w) => w.status === 'cosigned').map((w) => w.name);
  const lines = [
    `PROVEN COMPLETE: all ${plural(v.proven, 'disclosure')} about you in the log's first ${v.treeSize} entries (entries 0..${v.treeSize - 1}) ${v.proven === 1 ? 'is' : 'are'} here — none missing, none added, complete as of ${formatMapTime(Date.parse(v.committedAt))}`,
    `log: ${v.origin}, signed checkpoint of ${v.checkpointSize} entries`,
    `witnesses: ${cosigned.length ? `cosigned by ${cosigned.join(', ')}` : 'none cosigned'} (the policy asks for ${v.quorum})`,
    ...witnessLines,
    `map: committed at entry ${v.commitmentIndex} on ${v.committedAt}, covering entries 0..${v.treeSize - 1}`,
    ...v.subjects.map((s, i) => `  pseudonym ${i + 1} of ${v.subjects.length} (map index ${s.index.slice(0, 16)}…): ${plural(s.count, 'disclosure')}`),
  ];
  if (v.pending.length) {
    lines.push(`not yet covered by the map (${v.pending.length}): ${v.pending.map((p) => `${p.eventId} (${p.leafIndex === null ? 'not yet in the log' : `entry ${p.leafIndex}`})`).join(', ')}`);
  } else lines.push('not yet covered by the map: none');
  if (v.listChecked) lines.push(`the report lists exactly these ${plural(v.proven + v.pending.length, 'disclosure')}`);
  return `${lines.join('\n')}\n`;
}
