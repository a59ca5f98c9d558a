export * from './hmac.ts';
export * from './pseudonym.ts';
export * from './routing-key.ts';
export * from './subject-seal.ts';
export * from './subject-keys/index.ts';
