// The subject map (issue 22, docs/subject-map.md), pure: a compressed sparse Merkle tree from a
// subject's map index to (count, chain head) of their leaves in the log, its proofs, the citizen's
// completeness check and the auditor's recomputation.
export * from './hash.ts';
export * from './tree.ts';
export * from './proof.ts';
export * from './audit.ts';
export * from './keys.ts';
export * from './log-leaves.ts';
export * from './follower.ts';
export * from './bundle.ts';
export * from './log-audit.ts';
