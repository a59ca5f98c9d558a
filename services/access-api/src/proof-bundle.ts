import { SporbarError, isSporbarError } from '@sporbar/common/errors';
import type { EventStore } from '@sporbar/event-store';
import { leafHash, verifyInclusion } from '@sporbar/auditor/merkle';
import { formatTlogProof, parseCheckpointText, parseNote } from '@sporbar/auditor/note';
import type { LogServiceLike } from '@sporbar/log/routes';

/**
 * A citizen's proof bundle: one disclosure as a C2SP tlog-proof (https://c2sp.org/tlog-proof) that
 * anyone can check offline with the log's key (and the witnesses', by a tlog-policy):
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 of the stored event's bytes>     the leaf: SHA-256(0x00 ‖ bytes) is its hash
 *   index <leaf index>
 *   <the inclusion proof, one base64 hash a line>
 *
 *   <the latest checkpoint as the log serves it: the log's signature, then the witnesses' cosignatures>
 *
 * Built from the log's inclusion proof against its latest published checkpoint and the event's bytes
 * read from the event store. Before it is handed out, the bytes' leaf hash must be the log's and the
 * path must lead to the checkpoint's root: a mismatch is never served (SPB_ERR_INTERNAL, logged).
 */

/** Reads one stored event's bytes by its id: `positionsOf`, then one event from just before that position. */
export async function storedEventBytes(store: EventStore, eventId: string): Promise<Uint8Array | undefined> {
  if (!store.positionsOf) throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', `the ${store.adapter} event store cannot look events up by id: proof downloads need PostgreSQL (or PGlite)`);
  const id = eventId.toLowerCase();
  const position = (await store.positionsOf([id])).get(id);
  if (position === undefined) return undefined;
  for await (const e of store.readAll({ after: position - 1n, maxCount: 1, batchSize: 1 })) {
    if (e.eventId.toLowerCase() === id && e.globalPosition === position) return e.data;
  }
  return undefined;
}

export interface ProofBundle {
  readonly text: string;
  readonly leafIndex: number;
  readonly treeSize: number;
}

/** A mismatch between the log and the store: never served, and loud (the caller logs it). */
export class ProofMismatchError extends SporbarError {
  constructor(message: string) {
    super('SPB_ERR_INTERNAL', message);
    this.name = 'ProofMismatchError';
  }
}

/**
 * The tlog-proof of `eventId`. Throws SPB_ERR_NOT_YET_CHECKPOINTED (409) when no signed checkpoint
 * covers it yet, SPB_ERR_NOT_FOUND when neither the log nor the store holds it, ProofMismatchError
 * when the log and the store disagree.
 */
export async function proofBundle(log: LogServiceLike, store: EventStore, eventId: string): Promise<ProofBundle> {
  const notYet = () => new SporbarError('SPB_ERR_NOT_YET_CHECKPOINTED', 'this disclosure is not yet in a signed checkpoint; try again in a minute', { details: { field: 'eventId' } });
  const latest = await log.latestCheckpoint();
  if (!latest) throw notYet();
  let proof;
  try {
    proof = await log.inclusionProof(eventId, latest.treeSize);
  } catch (err) {
    // Stored but after the checkpoint ("not inside a tree"), or not in the log's tree yet at all.
    if (isSporbarError(err, 'SPB_ERR_BAD_REQUEST') && /not inside a tree/.test(err.message)) throw notYet();
    if (isSporbarError(err, 'SPB_ERR_NOT_FOUND')) throw notYet();
    throw err;
  }
  const bytes = await storedEventBytes(store, eventId);
  if (!bytes) throw new ProofMismatchError(`the log has leaf ${proof.leafIndex} for event ${eventId} but the event store does not hold the event`);
  const leaf = leafHash(bytes);
  if (!leaf.equals(Buffer.from(proof.leafHash, 'base64'))) {
    throw new ProofMismatchError(`the stored bytes of event ${eventId} do not hash to the log's leaf ${proof.leafIndex}`);
  }
  const checkpoint = parseCheckpointText(parseNote(latest.checkpoint).text);
  const path = proof.proof.map((h) => Buffer.from(h, 'base64'));
  if (checkpoint.size !== proof.treeSize || !verifyInclusion(proof.leafIndex, checkpoint.size, leaf, path, checkpoint.root)) {
    throw new ProofMismatchError(`the log's inclusion proof of leaf ${proof.leafIndex} does not lead to its checkpoint's root (size ${checkpoint.size})`);
  }
  return {
    text: formatTlogProof({ extra: Buffer.from(bytes), index: proof.leafIndex, proof: path, checkpoint: latest.checkpoint }),
    leafIndex: proof.leafIndex,
    treeSize: proof.treeSize,
  };
}
