import { emptyRoot, verifyConsistency } from '@sporbar/auditor/merkle';
import type { Checkpoint } from '@sporbar/auditor/note';

/**
 * What the witness does with a checkpoint whose log signature verified, given the last checkpoint it
 * cosigned for that log (tlog-witness add-checkpoint, in the spec's order). Pure.
 */
export interface KnownTree {
  readonly size: number;
  readonly root: Uint8Array;
}

/** The state of a log the witness never cosigned: size 0, the empty tree's root. */
export const NEVER_SEEN: KnownTree = { size: 0, root: emptyRoot() };

export type Decision =
  | { readonly kind: 'cosign' }
  /** 400: the old size is above the checkpoint's. */
  | { readonly kind: 'bad-request'; readonly reason: string }
  /** 409: the old size is not the size the witness last cosigned (its size goes back, text/x.tlog.size). */
  | { readonly kind: 'conflict'; readonly size: number }
  /** 422: the checkpoint is not consistent with what the witness saw. */
  | { readonly kind: 'inconsistent'; readonly reason: string };

export function decideAddCheckpoint(oldSize: number, proof: readonly Uint8Array[], checkpoint: Checkpoint, known: KnownTree): Decision {
  if (oldSize > checkpoint.size) return { kind: 'bad-request', reason: `old size ${oldSize} is above the checkpoint size ${checkpoint.size}` };
  if (checkpoint.size === 0 && !Buffer.from(checkpoint.root).equals(emptyRoot())) {
    return { kind: 'inconsistent', reason: 'a checkpoint of size 0 must have the root of the empty tree, SHA-256("")' };
  }
  if (known.size !== oldSize) return { kind: 'conflict', size: known.size };
  if (oldSize === 0) {
    return proof.length === 0 ? { kind: 'cosign' } : { kind: 'inconsistent', reason: 'from old size 0 the consistency proof must be empty' };
  }
  if (oldSize === checkpoint.size) {
    if (proof.length !== 0) return { kind: 'inconsistent', reason: 'from a size to the same size the consistency proof must be empty' };
    return Buffer.from(known.root).equals(checkpoint.root)
      ? { kind: 'cosign' }
      : { kind: 'inconsistent', reason: `a different root hash for tree size ${oldSize}: the log forked` };
  }
  return verifyConsistency(oldSize, checkpoint.size, known.root, checkpoint.root, proof)
    ? { kind: 'cosign' }
    : { kind: 'inconsistent', reason: `the consistency proof from size ${oldSize} to ${checkpoint.size} does not verify against the root the witness saw` };
}
