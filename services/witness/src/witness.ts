import { createHash } from 'node:crypto';
import { CheckpointError, formatCheckpointText, parseCheckpointText, type Checkpoint, type Cosigner, NoteError, openNote, type NoteVerifier } from '@sporbar/auditor/note';
import { decideAddCheckpoint, NEVER_SEEN } from './decide.ts';
import { parseAddCheckpointBody, RequestError } from './request.ts';
import type { CheckpointStore, StoredCheckpoint } from './store.ts';

/**
 * The witness: tlog-witness add-checkpoint from the request bytes to the answer, with the store and
 * the clock at the edges. Order of the checks is the spec's:
 *
 *   body syntax (400) → origin known (404) → log signature (403) → checkpoint syntax (400)
 *   → old ≤ size (400) → size-0 root (422) → old = last cosigned size (409) → consistency (422)
 *   → cosign, compare-and-swap the state, answer 200 with the cosignature line.
 *
 * The cosignature leaves the witness only after the compare-and-swap stored its checkpoint; a request
 * that loses the swap to a concurrent one re-reads the state and is decided again (usually 409).
 */

export type Outcome =
  | { readonly status: 200; readonly origin: string; readonly size: number; readonly body: string }
  | { readonly status: 409; readonly origin: string; readonly witnessSize: number; readonly reason: string }
  | {
      readonly status: 400 | 403 | 404 | 422;
      readonly code: 'SPB_ERR_BAD_REQUEST' | 'SPB_ERR_WITNESS_BAD_SIGNATURE' | 'SPB_ERR_WITNESS_UNKNOWN_LOG' | 'SPB_ERR_WITNESS_INCONSISTENT';
      /** Set once the origin is known to be one the witness witnesses (a metrics label never fed by strangers). */
      readonly origin?: string;
      readonly reason: string;
    };

export interface WitnessOptions {
  readonly cosigner: Cosigner;
  /** Log origin → the keys trusted to sign its checkpoints. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly store: CheckpointStore;
  /** POSIX seconds for the cosignature's timestamp (never 0). */
  readonly now?: () => bigint;
}

export interface Witness {
  readonly cosigner: Cosigner;
  readonly origins: readonly string[];
  addCheckpoint(body: Uint8Array): Promise<Outcome>;
  /** The last cosigned checkpoint of the log whose origin hashes to `originHash` (lowercase hex SHA-256). */
  latestCheckpoint(originHash: string): Promise<StoredCheckpoint | undefined>;
}

/** Lowercase hex SHA-256 of an origin: the log's path in the monitoring prefix. */
export const originHash = (origin: string): string => createHash('sha256').update(origin, 'utf8').digest('hex');

const CAS_ATTEMPTS = 5;

export function createWitness(options: WitnessOptions): Witness {
  const { cosigner, logs, store } = options;
  const now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  const byHash = new Map([...logs.keys()].map((o) => [originHash(o), o]));

  async function addCheckpoint(body: Uint8Array): Promise<Outcome> {
    let request;
    try {
      request = parseAddCheckpointBody(body);
    } catch (err) {
      if (err instanceof RequestError) return { status: 400, code: 'SPB_ERR_BAD_REQUEST', reason: err.message };
      throw err;
    }
    const verifiers = logs.get(request.origin);
    if (!verifiers) return { status: 404, code: 'SPB_ERR_WITNESS_UNKNOWN_LOG', reason: 'the witness does not witness this origin' };
    const origin = request.origin;
    let opened;
    try {
      opened = openNote(request.note, verifiers);
    } catch (err) {
      if (!(err instanceof NoteError)) throw err;
      return err.kind === 'malformed'
        ? { status: 400, code: 'SPB_ERR_BAD_REQUEST', origin, reason: `the checkpoint is not a signed note: ${err.message}` }
        : { status: 403, code: 'SPB_ERR_WITNESS_BAD_SIGNATURE', origin, reason: err.message };
    }
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpointText(opened.text);
    } catch (err) {
      if (err instanceof CheckpointError) return { status: 400, code: 'SPB_ERR_BAD_REQUEST', origin, reason: `not a checkpoint: ${err.message}` };
      throw err;
    }
    // What is cosigned is the text as parsed and re-encoded: the same bytes, or the request is refused.
    const text = formatCheckpointText(checkpoint);
    if (text !== opened.text) return { status: 400, code: 'SPB_ERR_BAD_REQUEST', origin, reason: 'the checkpoint text is not in its one canonical encoding' };

    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const stored = await store.get(origin);
      const known = stored ?? NEVER_SEEN;
      const decision = decideAddCheckpoint(request.oldSize, request.proof, checkpoint, known);
      switch (decision.kind) {
        case 'bad-request':
          return { status: 400, code: 'SPB_ERR_BAD_REQUEST', origin, reason: decision.reason };
        case 'conflict':
          return { status: 409, origin, witnessSize: decision.size, reason: `the witness last cosigned size ${decision.size}, not ${request.oldSize}` };
        case 'inconsistent':
          await store.recordEvidence({ origin, oldSize: request.oldSize, proof: request.proof, note: request.note, reason: decision.reason });
          return { status: 422, code: 'SPB_ERR_WITNESS_INCONSISTENT', origin, reason: decision.reason };
        case 'cosign': {
          const cosignature = cosigner.cosign(text, now());
          // Keep the log's verified signatures, never the unverified ones (one could collide with ours).
          const note = `${text}\n${[...opened.verified.map((s) => s.line), cosignature].map((l) => `${l}\n`).join('')}`;
          const next = { origin, size: checkpoint.size, root: checkpoint.root, note };
          if (await store.compareAndSwap(stored && { size: stored.size, root: stored.root }, next)) {
            return { status: 200, origin, size: checkpoint.size, body: `${cosignature}\n` };
          }
          // Another request changed the state between the read and the swap: decide again on the new state.
        }
      }
    }
    throw new Error(`the state of ${origin} kept changing under ${CAS_ATTEMPTS} attempts`);
  }

  return {
    cosigner,
    origins: [...logs.keys()],
    addCheckpoint,
    async latestCheckpoint(hash) {
      const origin = byHash.get(hash);
      return origin === undefined ? undefined : store.get(origin);
    },
  };
}
