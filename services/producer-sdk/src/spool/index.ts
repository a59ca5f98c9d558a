export { Spool, DEFAULT_MAX_SPOOL_BYTES, RECORD_HEADER_BYTES, type SpoolEntry, type SpoolOptions, type SpoolRecovery, type SpoolStats } from './spool.ts';
export { encodeMessage, decodeMessage, type SpooledMessage } from './message-codec.ts';
export { crc32 } from './crc32.ts';
