export * from './dead-letters.ts';
export * from './prepare-event.ts';
export * from './ingest.ts';
