import type { KeyObject } from 'node:crypto';
import type { CheckpointSigned, Codec, SubjectMapCommitted } from '@sporbar/schemas';
import { checkpointMatcher, checkpointTextOf } from './checkpoint/checkpoint-event.ts';
import { loadVerifyingKey, noteKeyId, verifyTreeHead, type VerifyingKey } from './checkpoint/signed-tree-head.ts';
import type { LogRow, LogSource } from './log/source.ts';
import { SubjectMapLogAudit, type LeafAt, type MapLogAuditResult } from './map/log-audit.ts';
import type { SubjectMapKeys } from './map/keys.ts';
import { CapturingRange, consistencyProofFromCapture, wantConsistencyNodes } from './merkle/frontier-proof.ts';
import { leafHash, verifyConsistency } from './merkle/rfc9162.ts';
import { DEFAULT_TAIL_GRACE, judgeTail, type TailGrace } from './tail.ts';
import { describeQuorum, quorumMet, type TlogPolicy } from './note/index.ts';
import type { WitnessAnswer } from './witness-view.ts';

/**
 * `verify`: one streaming pass over the global log (O(log n) hashes of tree state, plus a few per
 * checkpoint), recomputing the RFC 9162 tree and checking every CheckpointSigned:
 *
 *   1. its signature, under the configured key, over the note rebuilt from the event and the origin;
 *   2. its root against the recomputed root of the same tree size;
 *   3. consistency with the previous checkpoint: an RFC 9162 consistency proof is computed from the
 *      log while streaming (frontier at m, the subtrees of [m, n) kept as they complete, the frontier
 *      at n: `CapturingRange`) and checked with `verifyConsistency` against both
 *      *signed* roots.
 *
 * Where a root disagrees, the first such checkpoint bounds the damage to the leaves between the last
 * good checkpoint and it. That range is then re-read and each row checked on its own (decodes? the
 * eventId inside the bytes is the row's? the type too? positions contiguous? a bad checkpoint?) to
 * name the first differing leaf when the rows give it away. Edits that keep valid Avro and match their
 * row leave only the range (no signed data pins a single leaf below a checkpoint), unless the range is
 * one leaf or a reference is given: an export whose inclusion proofs verify against a signed
 * checkpoint gives the trusted leaf at every index it holds, and the first that differs is the answer.
 *
 * Then the tail: the events after the largest signed checkpoint are unproven. No signed checkpoint
 * at all (in a non-empty log) fails; an uncovered tail older or longer than the grace fails; within
 * the grace it is a warning (`tail.ts`).
 *
 * With a witness policy and the witnesses' answers (`witness-view.ts`, `verify --policy`): each
 * witness's latest cosigned checkpoint (its log signature and cosignature already verified) must name
 * exactly the root of the recomputed tree at its size — another root is a FORK (the log shows a
 * history other than the one the witness saw), a size beyond the log a rollback ('truncated') — and
 * the witnesses whose checkpoint matches must make up the policy's quorum ('unwitnessed' otherwise:
 * a witness that is unreachable, never cosigned, or answers something that does not verify counts for
 * nothing).
 *
 * The subject map (docs/subject-map.md), in the same pass: every SubjectMapCommitted leaf must commit
 * a tree size not beyond its own leaf index, larger than the one before it, and decode. With the map
 * key (`subjectMapKeys`) each DisclosureRecorded goes into a map recomputed from the log
 * (`SubjectMapLogAudit`) and every committed root is compared with it at its size: a root that is not
 * the log's is reported with the sizes that bound the divergence (log positions only, never a
 * subject). Without the key, commitments in the log are a warning: present, not checked.
 */

export type FindingKind = 'signature' | 'root' | 'truncated' | 'gap' | 'undecodable-checkpoint' | 'misplaced-checkpoint' | 'bookkeeping' | 'consistency' | 'no-checkpoint' | 'uncovered' | 'fork' | 'unwitnessed' | 'witness' | 'subject-map' | 'misplaced-map-commitment' | 'map-commitment-order' | 'undecodable-map-commitment' | 'subject-map-unchecked' | 'unreadable-disclosure';

export interface Finding {
  readonly kind: FindingKind;
  /** The first leaf index the finding implicates (the start of the range when it is a range). */
  readonly index: number;
  /** Position of that leaf, when the log has it. */
  readonly position?: bigint;
  readonly eventId?: string;
  /** Inclusive leaf index range the damage is bounded to, when not pinned to one leaf. */
  readonly range?: { readonly fromIndex: number; readonly toIndex: number; readonly fromPosition?: bigint; readonly toPosition?: bigint };
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly origin: string | undefined;
  readonly leaves: number;
  readonly lastPosition: bigint;
  readonly checkpoints: number;
  readonly checkpointsVerified: number;
  readonly consistencyProofsChecked: number;
  readonly latestVerifiedTreeSize: number;
  readonly findings: readonly Finding[];
  /** What is not wrong but not proven either: an uncovered tail within the grace (or allowed). */
  readonly warnings: readonly Finding[];
  /** Events after the largest signed checkpoint that are not checkpoints themselves. */
  readonly uncoveredEvents: number;
  readonly seconds: number;
  readonly source: string;
  /** With a witness policy: what each witness cosigned and how it compares with this log. */
  /** The subject map's commitments in the log, and (with the map key) how they compare with the map recomputed from it. */
  readonly subjectMap?: SubjectMapSummary;
  readonly witnesses?: ReadonlyArray<{ readonly name: string; readonly status: 'matches' | 'fork' | 'beyond-log' | WitnessAnswer['status']; readonly treeSize?: number; readonly detail?: string }>;
}

export interface SubjectMapSummary {
  /** Whether the roots were recomputed (the map key was given). */
  readonly checked: boolean;
  /** SubjectMapCommitted leaves in the log. */
  readonly commitments: number;
  /** Commitments whose root was compared with the recomputed map, and how many agree. */
  readonly compared: number;
  readonly agreed: number;
  /** Tree size of the newest commitment compared. */
  readonly newestTreeSize?: number;
}

export interface VerifyOptions {
  readonly source: LogSource;
  readonly codec: Codec;
  readonly publicKey: string | KeyObject | VerifyingKey;
  /**
   * Checkpoint keys rotated out (`sporbar keys rotate checkpoint` keeps them as
   * checkpoint-<keyId>.pub.pem): a checkpoint naming one of their key ids is verified with it.
   */
  readonly previousPublicKeys?: ReadonlyArray<string | KeyObject | VerifyingKey>;
  /** Expected origin (`sporbar.v1/<logId>`); default: the one the checkpoints' metadata names. */
  readonly origin?: string;
  /** Checkpoints kept outside the store (notes fetched earlier from /v1/log/checkpoint): truncation below them is caught. */
  readonly knownCheckpoints?: readonly string[];
  readonly onProgress?: (leaves: number, position: bigint) => void;
  /** How long (and how many) events may wait for a checkpoint: default DEFAULT_TAIL_GRACE (5 minutes). */
  readonly tailGrace?: TailGrace;
  /** The explicit escape hatch for development logs: no checkpoint, or an old uncovered tail, is a warning. */
  readonly allowUncoveredTail?: boolean;
  /** The time the tail's age is measured against (default: now). */
  readonly now?: Date;
  /** Trusted leaves (an export proven against a signed checkpoint) that pin a valid-Avro edit to its leaf. */
  readonly reference?: ReferenceLeaves;
  /** The witness policy and what its witnesses answered (`askWitnesses`): compared with the recomputed tree. */
  readonly witnessed?: { readonly policy: TlogPolicy; readonly answers: readonly WitnessAnswer[] };
  /** The subject map key's index and salt (`subjectMapKeys(SPORBAR_SUBJECT_MAP_KEY)`): recompute the map and check every committed root. */
  readonly subjectMapKeys?: SubjectMapKeys;
}

export interface ReferenceLeaf {
  readonly position: bigint;
  readonly eventId: string;
  readonly storedBytes: Buffer;
}

/** Leaves known from elsewhere, by leaf index, already checked against a signed checkpoint. */
export interface ReferenceLeaves {
  readonly description: string;
  /** The leaves it holds in [fromIndex, toIndex] (inclusive). */
  leaves(fromIndex: number, toIndex: number): Promise<Map<number, ReferenceLeaf>>;
}

interface Snapshot {
  readonly root: Buffer;
  /** Position and eventId of leaf size-1 (undefined for size 0). */
  readonly lastPosition: bigint;
  readonly lastEventId?: string;
  /** Consistency proof from the previous snapshot size to this one. */
  proofFrom?: { m: number; proof: Buffer[] };
}

interface FoundCheckpoint {
  readonly index: number;
  readonly position?: bigint;
  readonly eventId?: string;
  readonly external: boolean;
  readonly event?: CheckpointSigned;
  readonly text?: string;
  readonly decodeError?: string;
}

const describeLeaf = (index: number, position?: bigint, eventId?: string): string =>
  `leaf index ${index}${position !== undefined ? ` / position ${position}` : ''}${eventId ? ` (event ${eventId})` : ''}`;

export async function verifyLog(options: VerifyOptions): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const { source, codec } = options;
  const key = loadVerifyingKey(options.publicKey);
  const allKeys = [key, ...(options.previousPublicKeys ?? []).map(loadVerifyingKey)];
  // A checkpoint names its key by the C2SP note key hash, which binds the origin: looked up per origin.
  const keyOf = (origin: string, keyId: string) => allKeys.find((k) => noteKeyId(origin, k.publicKeyRaw) === keyId);
  const isCheckpoint = checkpointMatcher(codec);

  // Phase 1: the checkpoint sizes to snapshot (cheap: by type column / stream; the pass finds the rest).
  const sizes = new Set<number>([0]);
  const candidateOrigins = new Set<string>();
  for (const c of await source.checkpointCandidates()) {
    try {
      const e = codec.decode(c.data).event as CheckpointSigned;
      if (Number.isSafeInteger(e.treeSize) && e.treeSize >= 0) sizes.add(e.treeSize);
    } catch {
      // reported by the pass
    }
    if (c.origin) candidateOrigins.add(c.origin);
  }
  const external: FoundCheckpoint[] = [];
  for (const text of options.knownCheckpoints ?? []) {
    const v = verifyTreeHead(text, key, options.origin ? { origin: options.origin } : {});
    if (v.ok) {
      sizes.add(v.treeHead.treeSize);
      candidateOrigins.add(v.treeHead.origin);
    }
    external.push({ index: -1, external: true, text });
  }
  for (const a of options.witnessed?.answers ?? []) if (a.status === 'verified') sizes.add(a.treeSize!);
  // The sizes the subject map is committed at (its stream; a hint like the checkpoints': the pass reads every leaf).
  const mapSizes = new Set<number>();
  if (options.subjectMapKeys && source.mapCommitmentCandidates) {
    for (const c of await source.mapCommitmentCandidates()) {
      try {
        const e = codec.decode(c.data).event as SubjectMapCommitted;
        if (Number.isSafeInteger(e.treeSize) && e.treeSize >= 0) mapSizes.add(e.treeSize);
      } catch {
        // reported by the pass
      }
    }
  }
  const origin = options.origin ?? (candidateOrigins.size === 1 ? [...candidateOrigins][0] : undefined);
  const lastAssigned = source.lastAssignedPosition ? await source.lastAssignedPosition() : undefined;

  // Phase 2: the pass (repeated once if a checkpoint names a size nobody listed before it was passed).
  let snapshots = new Map<number, Snapshot>();
  let found: FoundCheckpoint[] = [];
  let leaves = 0;
  let lastPosition = 0n;
  let firstGap: Finding | undefined;
  let firstBeyondCounter: Finding | undefined;
  let mapAudit!: SubjectMapLogAudit;
  for (let attempt = 0; attempt < 2; attempt++) {
    mapAudit = new SubjectMapLogAudit({ codec, ...(options.subjectMapKeys ? { keys: options.subjectMapKeys } : {}), plannedSizes: mapSizes });
    const range = new CapturingRange();
    const planned = [...sizes].sort((a, b) => a - b);
    for (let i = 1; i < planned.length; i++) wantConsistencyNodes(range, planned[i - 1]!, planned[i]!);
    snapshots = new Map();
    found = [];
    firstGap = undefined;
    firstBeyondCounter = undefined;
    let previous: { size: number; frontier: Buffer[] } | undefined;
    let prevPosition = 0n;
    let lastEventId: string | undefined;
    const snapshot = () => {
      const size = range.size;
      const frontier = range.frontier();
      const snap: Snapshot = { root: range.root(), lastPosition: prevPosition, ...(lastEventId ? { lastEventId } : {}) };
      const proof = previous ? consistencyProofFromCapture(previous.size, previous.frontier, range) : undefined;
      if (previous && proof) snap.proofFrom = { m: previous.size, proof };
      snapshots.set(size, snap);
      previous = { size, frontier };
    };
    snapshot(); // size 0
    await source.scan(
      (row: LogRow) => {
        const index = range.size;
        if (isCheckpoint(row.data)) {
          try {
            const event = codec.decode(Buffer.from(row.data)).event as CheckpointSigned;
            found.push({ index, position: row.position, eventId: row.eventId, external: false, event });
            if (Number.isSafeInteger(event.treeSize) && event.treeSize >= 0) sizes.add(event.treeSize);
          } catch (err) {
            found.push({ index, position: row.position, eventId: row.eventId, external: false, decodeError: (err as Error).message });
          }
        }
        // Usually a checkpoint directly follows the leaves it covers, so its size is this index: snapshot first.
        if (index > 0 && sizes.has(index) && !snapshots.has(index)) snapshot();
        if (source.contiguousPositions && row.position !== prevPosition + 1n && !firstGap) {
          firstGap = {
            kind: 'gap',
            index,
            position: row.position,
            eventId: row.eventId,
            message: `positions ${prevPosition + 1n}${row.position - 1n > prevPosition + 1n ? `..${row.position - 1n}` : ''} are missing before ${describeLeaf(index, row.position, row.eventId)}: events were deleted (this store never leaves gaps)`,
          };
        }
        if (lastAssigned !== undefined && row.position > lastAssigned && !firstBeyondCounter) {
          firstBeyondCounter = {
            kind: 'bookkeeping',
            index,
            position: row.position,
            eventId: row.eventId,
            message: `${describeLeaf(index, row.position, row.eventId)} lies beyond the store's position counter (${lastAssigned}): it was inserted outside the append function`,
          };
        }
        const h = leafHash(row.data);
        range.appendLeafHash(h);
        mapAudit.leaf(index, row.data, h, row);
        prevPosition = row.position;
        lastEventId = row.eventId;
        if ((index & 0xffff) === 0 && index > 0) options.onProgress?.(index, row.position);
      },
      { columns: 'leaf' },
    );
    if (range.size > 0 && sizes.has(range.size) && !snapshots.has(range.size)) snapshot();
    leaves = range.size;
    lastPosition = prevPosition;
    options.onProgress?.(leaves, lastPosition);
    const missing = found.some((c) => c.event && c.event.treeSize <= leaves && !snapshots.has(c.event.treeSize));
    // A map commitment of a size the map had already passed (one outside its stream): read again with it planned.
    const replan = mapAudit.result().replan;
    for (const s of replan) mapSizes.add(s);
    if (!missing && replan.length === 0) break;
  }

  // Phase 3: judge every checkpoint, in tree-size order.
  const findings: Finding[] = [];
  if (firstGap) findings.push(firstGap);
  if (firstBeyondCounter) findings.push(firstBeyondCounter);
  if (lastAssigned !== undefined && lastAssigned > lastPosition) {
    findings.push({
      kind: 'truncated',
      index: leaves,
      message: `the log ends at position ${lastPosition} (${leaves} leaves) but the store handed out positions up to ${lastAssigned}: ${lastAssigned - lastPosition} event(s) are missing from the tail`,
    });
  }
  const checkpoints: FoundCheckpoint[] = [...found];
  for (const x of external) {
    const v = verifyTreeHead(x.text!, key, origin ? { origin } : {});
    if (!v.ok) {
      findings.push({ kind: 'signature', index: 0, message: `the checkpoint given with --checkpoint does not verify: ${v.reason}` });
      continue;
    }
    const h = v.treeHead;
    checkpoints.push({ ...x, event: { eventId: '', occurredAt: 0, treeSize: h.treeSize, rootHash: Buffer.from(h.rootHash), keyId: v.treeHead.keyId, algorithm: 'ED25519', signature: Buffer.alloc(64) } });
  }
  const badLeaves = new Map<number, string>(); // checkpoint leaves that are themselves wrong: explain root mismatches
  const valid: { size: number; root: Buffer; cp: FoundCheckpoint }[] = [];
  let verified = 0;
  for (const cp of checkpoints) {
    const where = cp.external ? 'the checkpoint given with --checkpoint' : `the checkpoint at ${describeLeaf(cp.index, cp.position, cp.eventId)}`;
    if (!cp.event) {
      findings.push({ kind: 'undecodable-checkpoint', index: cp.index, position: cp.position, eventId: cp.eventId, message: `${where} does not decode: ${cp.decodeError}` });
      badLeaves.set(cp.index, 'a checkpoint whose bytes do not decode');
      continue;
    }
    const e = cp.event;
    if (!cp.external) {
      if (!origin) {
        findings.push({ kind: 'signature', index: cp.index, position: cp.position, eventId: cp.eventId, message: `${where}: the log's origin is unknown (pass --origin)` });
        continue;
      }
      const text = checkpointTextOf(e, origin);
      const v = text ? verifyTreeHead(text, keyOf(origin, e.keyId) ?? key, { origin }) : { ok: false as const, reason: `key id '${e.keyId}' or signature length ${e.signature.length} is malformed` };
      if (!v.ok) {
        findings.push({ kind: 'signature', index: cp.index, position: cp.position, eventId: cp.eventId, message: `${where} (tree size ${e.treeSize}) has a bad signature: ${v.reason}` });
        badLeaves.set(cp.index, `a checkpoint whose signature does not verify (${v.reason})`);
        continue;
      }
      if (e.treeSize > cp.index && !findings.some((f) => f.kind === 'misplaced-checkpoint')) {
        findings.push({
          kind: 'misplaced-checkpoint',
          index: cp.index,
          position: cp.position,
          eventId: cp.eventId,
          message: `${where} certifies ${e.treeSize} leaves but is itself leaf ${cp.index}: a checkpoint can only follow the leaves it covers, so ${e.treeSize - cp.index} or more leaves before it are missing`,
        });
      }
    }
    valid.push({ size: e.treeSize, root: Buffer.from(e.rootHash), cp });
  }
  valid.sort((a, b) => a.size - b.size || a.cp.index - b.cp.index);

  let lastGood = 0;
  let firstBad: { size: number; cp: FoundCheckpoint; truncated: boolean } | undefined;
  let laterBad = 0;
  for (const v of valid) {
    const snap = snapshots.get(v.size);
    const matches = v.size <= leaves && snap !== undefined && snap.root.equals(v.root);
    if (matches && !firstBad) {
      verified++;
      lastGood = v.size;
    } else if (matches) {
      verified++;
    } else if (!firstBad) {
      firstBad = { size: v.size, cp: v.cp, truncated: v.size > leaves };
    } else {
      laterBad++;
    }
  }

  // Consistency between consecutive good checkpoints (in size order), from the proofs computed in the pass.
  let consistencyChecked = 0;
  const good = valid.filter((v) => {
    const snap = snapshots.get(v.size);
    return v.size <= leaves && snap !== undefined && snap.root.equals(v.root);
  });
  for (let i = 1; i < good.length; i++) {
    const a = good[i - 1]!;
    const b = good[i]!;
    if (a.size === b.size) continue;
    const proofFrom = snapshots.get(b.size)?.proofFrom;
    if (!proofFrom || proofFrom.m !== a.size) continue;
    consistencyChecked++;
    if (!verifyConsistency(a.size, b.size, a.root, b.root, proofFrom.proof)) {
      findings.push({ kind: 'consistency', index: a.size, message: `checkpoints of tree sizes ${a.size} and ${b.size} are not consistent` });
    }
  }

  if (firstBad) {
    const signedLeaves = new Set(good.filter((v) => !v.cp.external).map((v) => v.cp.index));
    findings.push(await narrow({ source, codec, firstBad, lastGood, leaves, snapshots, badLeaves, laterBad, signedLeaves, ...(options.reference ? { reference: options.reference } : {}) }));
  }

  // The tail: what no signed checkpoint covers. A signed checkpoint whose root disagrees still claims
  // its prefix (and is a finding of its own), so the tail starts after the largest signed size.
  const warnings: Finding[] = [];
  const signed = valid.filter((v) => v.size <= leaves);
  const coveredSize = signed.reduce((m, v) => Math.max(m, v.size), 0);
  const checkpointLeavesAfter = found.filter((c) => c.index >= coveredSize).length;
  const uncoveredEvents = Math.max(0, leaves - coveredSize - checkpointLeavesAfter);
  if (uncoveredEvents > 0) {
    let oldest: { index: number; position: bigint; eventId: string; recordedAt: Date } | undefined;
    let index = coveredSize;
    await source.scan(
      (row) => {
        if (!oldest && !isCheckpoint(row.data)) oldest = { index, position: row.position, eventId: row.eventId, recordedAt: row.recordedAt };
        index++;
      },
      { after: snapshots.get(coveredSize)?.lastPosition ?? 0n, maxCount: checkpointLeavesAfter + 1 },
    );
    const verdict = judgeTail(
      { leaves, coveredSize, checkpointsVerified: signed.length, uncovered: uncoveredEvents, lastPosition, now: options.now ?? new Date(), ...(oldest ? { oldest } : {}) },
      options.tailGrace ?? DEFAULT_TAIL_GRACE,
      options.allowUncoveredTail === true,
    );
    if (verdict) {
      const f: Finding = { kind: verdict.kind, index: verdict.index, ...(verdict.position !== undefined ? { position: verdict.position } : {}), ...(verdict.eventId ? { eventId: verdict.eventId } : {}), message: verdict.message };
      (verdict.level === 'failure' ? findings : warnings).push(f);
    }
  }

  const map = mapAudit.result();
  findings.push(...mapFindings(map));
  warnings.push(...mapWarnings(map));
  const subjectMap: SubjectMapSummary | undefined =
    map.checked || map.commitments > 0
      ? { checked: map.checked, commitments: map.commitments, compared: map.compared, agreed: map.agreed, ...(map.newestTreeSize !== undefined ? { newestTreeSize: map.newestTreeSize } : {}) }
      : undefined;

  let witnesses: VerifyReport['witnesses'];
  if (options.witnessed) {
    const { policy, answers } = options.witnessed;
    const confirmed = new Set<string>();
    witnesses = answers.map((a) => {
      if (a.status !== 'verified') {
        (a.status === 'bad' ? findings : warnings).push({ kind: 'witness', index: 0, message: `witness ${a.witness} (${a.url}): ${a.status === 'bad' ? 'its answer does not verify' : a.status}: ${a.detail ?? ''}` });
        return { name: a.witness, status: a.status, ...(a.detail ? { detail: a.detail } : {}) };
      }
      const size = a.treeSize!;
      const root = a.rootHash!.toString('base64');
      const when = a.time ? ` at ${a.time}` : '';
      if (size > leaves) {
        findings.push({ kind: 'truncated', index: leaves, message: `witness ${a.witness} cosigned tree size ${size} (root ${root})${when}, but the log has only ${leaves} leaves: the log was truncated or rolled back after the witness saw it` });
        return { name: a.witness, status: 'beyond-log' as const, treeSize: size, detail: `cosigned ${size}, the log has ${leaves}` };
      }
      const mine = snapshots.get(size)?.root;
      if (!mine || !mine.equals(a.rootHash!)) {
        findings.push({
          kind: 'fork',
          index: 0,
          message: `FORK: witness ${a.witness} cosigned tree size ${size} with root ${root}${when}, but this log's tree of size ${size} has root ${mine?.toString('base64') ?? '(not computed)'}: the log shows a different history than the one the witness saw (rewritten, or a split view)`,
        });
        return { name: a.witness, status: 'fork' as const, treeSize: size, detail: `root ${root} ≠ ${mine?.toString('base64')}` };
      }
      confirmed.add(a.witness);
      return { name: a.witness, status: 'matches' as const, treeSize: size };
    });
    if (!quorumMet(policy, confirmed)) {
      findings.push({
        kind: 'unwitnessed',
        index: 0,
        message: `the witness quorum (${describeQuorum(policy)}) does not confirm this log: ${confirmed.size ? `only ${[...confirmed].join(', ')} cosigned a checkpoint that matches it` : 'no witness cosigned a checkpoint that matches it'}`,
      });
    }
  }

  findings.sort((a, b) => a.index - b.index);
  return {
    ...(witnesses ? { witnesses } : {}),
    ...(subjectMap ? { subjectMap } : {}),
    ok: findings.length === 0,
    origin,
    leaves,
    lastPosition,
    checkpoints: checkpoints.length,
    checkpointsVerified: verified,
    consistencyProofsChecked: consistencyChecked,
    latestVerifiedTreeSize: lastGood,
    findings,
    warnings,
    uncoveredEvents,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    source: source.description,
  };
}

const at = (logIndex: number, a: LeafAt) => ({ index: logIndex, ...(a.position !== undefined ? { position: a.position } : {}), ...(a.eventId ? { eventId: a.eventId } : {}) });
const more = (n: number, what: string) => (n > 0 ? ` (and ${n} more ${what})` : '');

/** The subject map's problems as findings: positions, tree sizes and the commitment's own event only. */
function mapFindings(map: MapLogAuditResult): Finding[] {
  const out: Finding[] = [];
  for (const p of map.problems) {
    const where = `the subject-map commitment at ${describeLeaf(p.logIndex, p.at.position, p.at.eventId)}`;
    switch (p.kind) {
      case 'root':
        out.push({
          kind: 'subject-map',
          ...at(p.logIndex, p.at),
          range: { fromIndex: p.lastGoodSize, toIndex: p.treeSize - 1 },
          message: `${where} commits a map root for tree size ${p.treeSize} that is not the map recomputed from the log: the commitments agreed up to tree size ${p.lastGoodSize}, so the divergence is among log indexes ${p.lastGoodSize}..${p.treeSize - 1}${
            p.later > 0 ? `; the ${p.later} commitment(s) right after it disagree as well` : ''
          }`,
        });
        break;
      case 'beyond':
        out.push({
          kind: 'misplaced-map-commitment',
          ...at(p.logIndex, p.at),
          message: `${where} commits tree size ${p.treeSize}, beyond its own leaf index ${p.logIndex}: a commitment can only cover leaves before it${more(map.more.beyond, 'such commitment(s)')}`,
        });
        break;
      case 'order':
        out.push({
          kind: 'map-commitment-order',
          ...at(p.logIndex, p.at),
          message: `${where} commits tree size ${p.treeSize}, not beyond the tree size ${p.previousSize} committed at leaf index ${p.previousLogIndex}: commitments must come in increasing size${more(map.more.order, 'out of order')}`,
        });
        break;
      case 'undecodable':
        out.push({ kind: 'undecodable-map-commitment', ...at(p.logIndex, p.at), message: `${where} is a SubjectMapCommitted whose bytes do not decode${more(map.more.undecodable, 'that do not decode')}` });
        break;
    }
  }
  const listed = map.problems.reduce((n, p) => n + (p.kind === 'root' ? 1 + p.later : 0), 0);
  const unlisted = map.compared - map.agreed - listed;
  if (unlisted > 0) out.push({ kind: 'subject-map', index: 0, message: `${unlisted} more subject-map commitment(s) disagree with the map recomputed from the log (not listed one by one)` });
  if (map.replan.length > 0) {
    out.push({ kind: 'subject-map', index: 0, message: `${map.replan.length} subject-map commitment(s) (tree size ${map.replan.join(', ')}) could not be compared: the map had passed their size when the pass met them` });
  }
  return out;
}

function mapWarnings(map: MapLogAuditResult): Finding[] {
  const out: Finding[] = [];
  if (!map.checked && map.commitments > 0) {
    out.push({
      kind: 'subject-map-unchecked',
      index: 0,
      message: `the log holds ${map.commitments} subject-map commitment(s) that were NOT checked: give the subject map key (--subject-map-key <file> or SPORBAR_SUBJECT_MAP_KEY) to recompute the map and compare their roots`,
    });
  }
  if (map.checked && map.firstUnreadableDisclosure) {
    const f = map.firstUnreadableDisclosure;
    out.push({
      kind: 'unreadable-disclosure',
      ...at(f.logIndex, f.at),
      message: `${map.unreadableDisclosures} DisclosureRecorded leaf/leaves, the first at ${describeLeaf(f.logIndex, f.at.position, f.at.eventId)}, do not decode or name no pseudonym: they are in no subject's chain of the map`,
    });
  }
  return out;
}

/** Re-reads the leaves between the last good checkpoint and the first bad one and looks for the row that gives itself away. */
async function narrow(args: {
  source: LogSource;
  codec: Codec;
  firstBad: { size: number; cp: FoundCheckpoint; truncated: boolean };
  lastGood: number;
  leaves: number;
  snapshots: Map<number, Snapshot>;
  badLeaves: Map<number, string>;
  laterBad: number;
  /** Leaf indexes of checkpoints whose signature verified and whose root matches: signer output, not suspects. */
  signedLeaves: Set<number>;
  reference?: ReferenceLeaves;
}): Promise<Finding> {
  const { source, codec, firstBad, lastGood, leaves, snapshots, badLeaves, laterBad, signedLeaves, reference } = args;
  const cpWhere = firstBad.cp.external ? 'the checkpoint given with --checkpoint' : `(position ${firstBad.cp.position}, event ${firstBad.cp.eventId})`;
  const head = `checkpoint at tree size ${firstBad.size} ${cpWhere}`;
  const later = laterBad > 0 ? `; ${laterBad} later checkpoint(s) disagree as well, as every later tree contains the damage` : '';
  const end = Math.min(firstBad.size, leaves); // exclusive
  const base = snapshots.get(lastGood);
  let found: { index: number; position: bigint; eventId: string; reason: string } | undefined;
  let firstPos: bigint | undefined;
  let lastPos: bigint | undefined;
  let lastId: string | undefined;
  let byReference: { index: number; position: bigint; eventId: string; reason: string } | undefined;
  const suspects: { index: number; position: bigint; eventId: string }[] = [];
  let referenceHeld = 0;
  const trusted = reference && end > lastGood ? await reference.leaves(lastGood, end - 1) : undefined;
  if (end > lastGood && base) {
    let index = lastGood;
    let prev = base.lastPosition;
    await source.scan(
      (row) => {
        if (firstPos === undefined) firstPos = row.position;
        lastPos = row.position;
        lastId = row.eventId;
        if (!found) {
          const reason = rowProblem(codec, row, prev, source.contiguousPositions) ?? badLeaves.get(index);
          if (reason) found = { index, position: row.position, eventId: row.eventId, reason };
        }
        if (!signedLeaves.has(index) && suspects.length < 2) suspects.push({ index, position: row.position, eventId: row.eventId });
        const known = trusted?.get(index);
        if (known) referenceHeld++;
        if (known && !byReference) {
          const reason = referenceProblem(row, known, reference!.description);
          if (reason) byReference = { index, position: row.position, eventId: row.eventId, reason };
        }
        prev = row.position;
        index++;
      },
      { after: base.lastPosition, maxCount: end - lastGood },
    );
  }
  // The reference pins the first leaf that differs from trusted bytes; a row that gives itself away
  // earlier comes first. One suspect leaf between two checkpoints is pinned by the signed roots alone
  // (verified checkpoints in the range are the signer's own output, not suspects).
  if (byReference && (!found || byReference.index < found.index)) found = byReference;
  if (!found && suspects.length === 1 && !firstBad.truncated) {
    found = {
      ...suspects[0]!,
      reason: `it is the only leaf between the matching checkpoint of tree size ${lastGood} and this one that is not a verified checkpoint, so the signed roots pin it: its bytes are not what the signer saw (edited, or inserted with the positions after it renumbered and the counter moved, or an event just before it was deleted the same way)`,
    };
  }
  if (found) {
    return {
      kind: firstBad.truncated ? 'truncated' : 'root',
      index: found.index,
      position: found.position,
      eventId: found.eventId,
      range: { fromIndex: lastGood, toIndex: firstBad.size - 1 },
      message: `${head} does not match the log: first differing leaf is at ${describeLeaf(found.index, found.position, found.eventId)}: ${found.reason}${later}`,
    };
  }
  const rangeText =
    end > lastGood
      ? `leaf index ${lastGood}..${end - 1}${firstPos !== undefined ? ` (positions ${firstPos}..${lastPos}${lastId ? `, last event ${lastId}` : ''})` : ''}`
      : `leaf index ${lastGood}..${firstBad.size - 1}`;
  if (firstBad.truncated) {
    return {
      kind: 'truncated',
      index: Math.min(lastGood, leaves),
      range: { fromIndex: lastGood, toIndex: firstBad.size - 1, ...(firstPos !== undefined ? { fromPosition: firstPos, toPosition: lastPos! } : {}) },
      message: `${head} certifies ${firstBad.size} leaves but the log has only ${leaves}: the log was truncated or events were deleted after tree size ${lastGood} (the last checkpoint that matches)${later}`,
    };
  }
  return {
    kind: 'root',
    index: lastGood,
    ...(firstPos !== undefined ? { position: firstPos } : {}),
    range: { fromIndex: lastGood, toIndex: firstBad.size - 1, ...(firstPos !== undefined ? { fromPosition: firstPos, toPosition: lastPos! } : {}) },
    message: `${head} does not match the log: the first differing leaf is in ${rangeText}, after tree size ${lastGood} (the last checkpoint that matches). Those rows decode and carry their own ids, so bytes were edited into other valid events or rows were inserted; ${
      reference
        ? `${reference.description} holds ${referenceHeld} of those leaves and they all match, so the edit is in a leaf it does not hold`
        : 'the signed roots cannot tell which: pass an earlier export with --reference (or run `compare <export>`) to name the leaf'
    }${later}`,
  };
}

/** Why a row differs from the trusted leaf at its index, or undefined when its bytes are the same. */
function referenceProblem(row: LogRow, known: ReferenceLeaf, description: string): string | undefined {
  const data = Buffer.from(row.data);
  if (data.equals(known.storedBytes)) return undefined;
  if (row.eventId.toLowerCase() !== known.eventId.toLowerCase()) {
    return `${description} holds event ${known.eventId} (position ${known.position}) at this leaf index: an event was inserted, deleted or moved here`;
  }
  let at = 0;
  while (at < data.length && at < known.storedBytes.length && data[at] === known.storedBytes[at]) at++;
  return `its stored bytes differ from ${description} (the same event, proven against a signed checkpoint) from byte ${at} of ${known.storedBytes.length}${
    data.length !== known.storedBytes.length ? ` (length ${data.length}, was ${known.storedBytes.length})` : ''
  }: the bytes were edited and still decode`;
}

/** Why one row is not what its table row says it is, or undefined. */
function rowProblem(codec: Codec, row: LogRow, prev: bigint, contiguous: boolean): string | undefined {
  if (contiguous && row.position !== prev + 1n) return `position${row.position - prev > 2n ? 's' : ''} ${prev + 1n}${row.position - prev > 2n ? `..${row.position - 1n}` : ''} missing before it (deleted)`;
  let decoded;
  try {
    decoded = codec.decode(row.data);
  } catch (err) {
    return `its stored bytes do not decode (${(err as Error).message})`;
  }
  const inner = (decoded.event as { eventId?: string }).eventId?.toLowerCase();
  if (inner !== undefined && inner !== row.eventId.toLowerCase()) return `its stored bytes are those of event ${inner}, not of this row (bytes moved, swapped or replaced)`;
  if (row.type && decoded.eventType !== row.type) return `its type column says ${row.type} but the bytes are a ${decoded.eventType}`;
  return undefined;
}

/** One line per finding, the first one being the answer to "where does the store disagree". */
export function formatReport(r: VerifyReport): string {
  const lines: string[] = [];
  lines.push(
    `${r.ok ? (r.warnings.length > 0 ? 'OK (with warnings)' : 'OK') : 'FAILED'}: ${r.leaves} leaves (last position ${r.lastPosition}), ${r.checkpoints} checkpoint(s), ${r.checkpointsVerified} verified, ${r.consistencyProofsChecked} consistency proof(s) checked; latest verified tree size ${r.latestVerifiedTreeSize}; origin ${r.origin ?? '(unknown)'}; ${r.source}; ${r.seconds.toFixed(2)} s`,
  );
  const m = r.subjectMap;
  if (m?.checked) {
    const n = (k: number, what: string) => `${k.toLocaleString('en-US')} ${what}${k === 1 ? '' : 's'}`;
    lines.push(
      m.commitments === 0
        ? '  subject map: the log holds no commitment yet (nothing to check)'
        : m.agreed === m.compared && m.compared === m.commitments
          ? `  subject map: ${n(m.commitments, 'commitment')} checked, the newest at tree size ${m.newestTreeSize!.toLocaleString('en-US')}`
          : `  subject map: ${n(m.commitments, 'commitment')}, ${m.compared.toLocaleString('en-US')} compared with the map recomputed from the log, ${m.agreed.toLocaleString('en-US')} agree`,
    );
  }
  for (const w of r.witnesses ?? []) lines.push(`  witness ${w.name}: ${w.status}${w.treeSize !== undefined ? ` at tree size ${w.treeSize}` : ''}${w.detail && w.status !== 'matches' ? ` (${w.detail})` : ''}`);
  for (const f of r.findings) lines.push(`  [${f.kind}] ${f.message}`);
  for (const f of r.warnings) lines.push(`  [${f.kind}] (warning) ${f.message}`);
  return lines.join('\n');
}
