import { checkCheckpointPolicy, type TlogPolicy } from '@sporbar/auditor/note';
import { verifyInclusion } from '@sporbar/auditor/merkle';
import type { InclusionProofLike, LogCheckpointLike, WitnessedLike } from '@sporbar/log/routes';

/**
 * The citizen report's own judgement of what the log service gave it (pure): it trusts neither the
 * log's `witnessed` verdict nor its proofs, and checks
 *
 *   1. with a witness policy: the checkpoint note with `checkCheckpointPolicy` — the log's signature,
 *      every listed witness's cosignature, the quorum — and that the note's size and root are the
 *      ones the JSON names;
 *   2. every inclusion proof against that checkpoint's root (RFC 9162 `verifyInclusion`).
 *
 *   ok          everything verifies (and, with a policy, the quorum is met)
 *   unwitnessed the log signed it, but the quorum of witnesses has not cosigned it (yet)
 *   invalid     a signature, a cosignature or a proof fails: the log (or what sits between) lies
 *   unavailable (decided by the caller: the log could not be asked)
 */
export type IntegrityStatus = 'ok' | 'unwitnessed' | 'invalid' | 'unavailable';

export interface IntegrityVerdict {
  readonly status: Exclude<IntegrityStatus, 'unavailable'>;
  /** Why it is not ok, in plain words. */
  readonly reason?: string;
  /** The policy's verdict on the checkpoint, as this API computed it (absent without a policy). */
  readonly witnessed?: WitnessedLike;
}

const b = (s: string) => Buffer.from(s, 'base64');

export function judgeIntegrity(checkpoint: LogCheckpointLike | null, proofs: readonly InclusionProofLike[], policy: TlogPolicy | undefined): IntegrityVerdict {
  if (!checkpoint) {
    return policy && policy.quorum !== 'none' ? { status: 'unwitnessed', reason: 'the log has no signed checkpoint yet' } : { status: 'ok' };
  }
  let witnessed: WitnessedLike | undefined;
  if (policy) {
    const check = checkCheckpointPolicy(checkpoint.checkpoint, policy);
    witnessed = { quorum: check.quorum, met: check.ok, witnesses: check.witnesses.map((w) => ({ name: w.name, status: w.status, ...(w.time ? { time: w.time } : {}), ...(w.reason ? { reason: w.reason } : {}) })) };
    if (!check.ok && check.failure !== 'quorum') return { status: 'invalid', reason: `the checkpoint does not verify: ${check.reason}`, witnessed };
    const forged = check.witnesses.find((w) => w.status === 'invalid');
    if (forged) return { status: 'invalid', reason: `the checkpoint carries a cosignature of witness ${forged.name} that does not verify (${forged.reason}): it was not made by that witness for this checkpoint`, witnessed };
    const cp = check.checkpoint!;
    if (cp.size !== checkpoint.treeSize || !cp.root.equals(b(checkpoint.rootHash))) {
      return { status: 'invalid', reason: `the signed note says tree size ${cp.size} and root ${cp.root.toString('base64')}, the log's answer ${checkpoint.treeSize} and ${checkpoint.rootHash}`, witnessed };
    }
  }
  const root = b(checkpoint.rootHash);
  for (const p of proofs) {
    if (p.treeSize !== checkpoint.treeSize || !verifyInclusion(p.leafIndex, p.treeSize, b(p.leafHash), p.proof.map(b), root)) {
      return { status: 'invalid', reason: `the inclusion proof of event ${p.eventId} does not lead to the checkpoint's root (tree size ${checkpoint.treeSize})`, ...(witnessed ? { witnessed } : {}) };
    }
  }
  if (witnessed && !witnessed.met) {
    const have = witnessed.witnesses.filter((w) => w.status === 'cosigned').map((w) => w.name);
    return {
      status: 'unwitnessed',
      reason: `the log signed this checkpoint, but the witness quorum (${witnessed.quorum}) has not cosigned it: ${have.length ? `only ${have.join(', ')} did` : 'no witness did'}. Until they do, nobody independent has confirmed that everyone is shown the same log`,
      witnessed,
    };
  }
  return { status: 'ok', ...(witnessed ? { witnessed } : {}) };
}
