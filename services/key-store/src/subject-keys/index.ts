/** Per-subject encryption of personal details, data keys wrapped by a master key, crypto-shredding. */
export * from './envelope.ts';
export * from './master-key.ts';
export * from './key-table.ts';
export * from './migrations/index.ts';
