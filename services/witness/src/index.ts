// The C2SP note, checkpoint and cosignature code the witness is built on lives in @sporbar/auditor/note.
export * from './request.ts';
export * from './decide.ts';
export * from './logs.ts';
export * from './witness.ts';
export * from './store.ts';
export * from './client.ts';
export * from './config.ts';
export * from './server.ts';
