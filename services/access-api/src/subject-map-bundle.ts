import { SporbarError, isSporbarError } from '@sporbar/common/errors';
import type { EventStore } from '@sporbar/event-store';
import type { Codec } from '@sporbar/schemas';
import { leafHash } from '@sporbar/auditor/merkle';
import { mapLeafReader, verifySubjectMapBundle, type SubjectMapKeys } from '@sporbar/auditor/map';
import { formatPolicy, parsePolicy } from '@sporbar/auditor/note';
import { MAX_BATCH, inclusionProofsOf, type LogServiceLike } from '@sporbar/log/routes';

/**
 * A citizen's subject-map proof bundle (`sporbar-subject-map-proof/1`, docs/subject-map.md): proves
 * that the disclosures listed are exactly the citizen's DisclosureRecorded leaves in the log up to the
 * map's tree size — none missing, none added, in log order — with nothing but the log's key (or its
 * witness policy). Checked on the device by the page (verify.js), offline by `sporbar-audit
 * verify-proof`, and by `verifySubjectMapBundle` in @sporbar/auditor/map.
 *
 * Built from the log (the newest map commitment a published checkpoint covers, its inclusion proof,
 * one map proof per pseudonym of the citizen) and the event store (the citizen's own streams: every
 * disclosure's stored bytes). The operator's read models play no part: a disclosure the projections
 * lost still appears here, and the verifier compares this with the report's list.
 */
export interface SubjectMapBundleLeaf {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly event: string;
}

export interface SubjectMapBundle {
  readonly format: 'sporbar-subject-map-proof/1';
  readonly origin: string;
  readonly checkpoint: string;
  readonly commitment: { readonly leafIndex: number; readonly event: string; readonly inclusionProof: readonly string[] };
  readonly subjects: ReadonlyArray<{ readonly index: string; readonly proof: string; readonly leaves: readonly SubjectMapBundleLeaf[] }>;
  readonly pending: ReadonlyArray<{ readonly eventId: string; readonly leafIndex: number | null }>;
}

/** Why there is no bundle right now, in words the page can show after its own. */
export class SubjectMapNotYet extends SporbarError {
  constructor(message: string) {
    super('SPB_ERR_NOT_YET_CHECKPOINTED', message);
    this.name = 'SubjectMapNotYet';
  }
}

export interface SubjectMapBundleDeps {
  readonly log: LogServiceLike;
  readonly store: EventStore;
  readonly codec: Codec;
  readonly keys: SubjectMapKeys;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const subjectStream = (pseudonym: string): string => `subject-${pseudonym}`;

/** The citizen's disclosures as stored (eventId, bytes), per pseudonym, in stream order. */
async function storedDisclosures(deps: SubjectMapBundleDeps, pseudonym: string): Promise<{ eventId: string; data: Uint8Array }[]> {
  const read = mapLeafReader(deps.codec);
  const out: { eventId: string; data: Uint8Array }[] = [];
  for await (const e of deps.store.readStream(subjectStream(pseudonym))) {
    const leaf = read(e.data);
    if (leaf.kind === 'disclosure' && leaf.pseudonym === pseudonym) out.push({ eventId: e.eventId.toLowerCase(), data: e.data });
  }
  return out;
}

/**
 * The bundle for a citizen's pseudonyms (current and rotated-out). Throws SubjectMapNotYet while no
 * map commitment is covered by the published checkpoint, SPB_ERR_NOT_FOUND when the log keeps no map.
 */
export async function subjectMapBundle(deps: SubjectMapBundleDeps, pseudonyms: readonly string[]): Promise<SubjectMapBundle> {
  const { log } = deps;
  if (!log.subjectMapProofs) throw new SporbarError('SPB_ERR_NOT_FOUND', 'this log keeps no subject map');
  if (pseudonyms.length === 0) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no subject');
  const checkpoint = await log.latestCheckpoint();
  if (!checkpoint) throw new SubjectMapNotYet('the log has no signed checkpoint yet');
  const indexes = pseudonyms.map((p) => deps.keys.indexOf(p).toString('hex'));
  let answer;
  try {
    answer = await log.subjectMapProofs(indexes);
  } catch (err) {
    if (isSporbarError(err, 'SPB_ERR_NOT_FOUND')) throw new SubjectMapNotYet(`the log has no subject map commitment yet: ${err.message}`);
    throw err;
  }
  const { commitment } = answer;
  if (commitment.leafIndex >= checkpoint.treeSize) throw new SubjectMapNotYet(`the newest subject map (leaf ${commitment.leafIndex}) is not yet in the published checkpoint (${checkpoint.treeSize} entries)`);
  const inclusion = await log.inclusionProof(commitment.eventId, checkpoint.treeSize);
  const publicKey = await log.publicKey();

  const subjects: SubjectMapBundle['subjects'][number][] = [];
  const pending: { eventId: string; leafIndex: number | null }[] = [];
  for (let i = 0; i < pseudonyms.length; i++) {
    const stored = await storedDisclosures(deps, pseudonyms[i]!);
    const where = new Map<string, { leafIndex: number; leafHash: string }>();
    for (let from = 0; from < stored.length; from += MAX_BATCH) {
      const batch = stored.slice(from, from + MAX_BATCH).map((d) => d.eventId);
      const { proofs } = await inclusionProofsOf(log, batch, checkpoint.treeSize);
      for (const p of proofs) where.set(p.eventId.toLowerCase(), { leafIndex: p.leafIndex, leafHash: p.leafHash });
    }
    const leaves: SubjectMapBundleLeaf[] = [];
    for (const d of stored) {
      const at = where.get(d.eventId);
      if (at && at.leafIndex < commitment.treeSize) {
        // The log's leaf hash and the stored bytes must agree: a bundle that would not check out is never served.
        if (at.leafHash !== b64(leafHash(d.data))) throw new SporbarError('SPB_ERR_INTERNAL', `the stored bytes of event ${d.eventId} do not hash to the log's leaf ${at.leafIndex}`);
        leaves.push({ eventId: d.eventId, leafIndex: at.leafIndex, leafHash: at.leafHash, event: b64(d.data) });
      } else pending.push({ eventId: d.eventId, leafIndex: at?.leafIndex ?? null });
    }
    leaves.sort((a, b) => a.leafIndex - b.leafIndex);
    subjects.push({ index: indexes[i]!, proof: answer.proofs[i]!.proof, leaves });
  }
  const bundle: SubjectMapBundle = {
    format: 'sporbar-subject-map-proof/1',
    origin: publicKey.origin,
    checkpoint: checkpoint.checkpoint,
    commitment: { leafIndex: commitment.leafIndex, event: commitment.event, inclusionProof: inclusion.proof },
    subjects,
    pending,
  };
  // Checked here as the citizen will check it (under the log's own key; the witnesses are the citizen's
  // policy to judge): a bundle that would not check out is never handed out, and is loud.
  const verdict = verifySubjectMapBundle(bundle, parsePolicy(formatPolicy({ logs: [{ vkey: publicKey.verifierKey }], witnesses: [], quorum: 'none' })), deps.codec, { origin: publicKey.origin });
  if (!verdict.ok) throw new SubjectMapMismatch(`the subject map bundle does not check out (${verdict.reason}): ${verdict.detail}`);
  return bundle;
}

/** The log, the map and the store disagree: never served (SPB_ERR_INTERNAL), logged by the caller. */
export class SubjectMapMismatch extends SporbarError {
  constructor(message: string) {
    super('SPB_ERR_INTERNAL', message);
    this.name = 'SubjectMapMismatch';
  }
}
