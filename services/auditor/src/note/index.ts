// C2SP signed notes and what is built on them, pure: signed-note, tlog-checkpoint, tlog-cosignature,
// tlog-policy and tlog-proof. The witness, the log service, the access API and `sporbar-audit` share them.
export * from './note.ts';
export * from './checkpoint.ts';
export * from './cosignature.ts';
export * from './policy.ts';
export * from './proof.ts';
