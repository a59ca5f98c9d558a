export * from './hmac.ts';
export * from './pseudonym.ts';
export * from './routing-key.ts';
export * from './subject-seal.ts';
export * from './subject-keys/index.ts';
export * from './producer-auth.ts';
export * from './producer-registry-file.ts';
