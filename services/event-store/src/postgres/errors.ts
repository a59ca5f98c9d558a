import { SporbarError } from '../errors.ts';

/** SQLSTATEs and socket errors that mean "the server is away (for now)", not "the request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '08000', '08001', '08003', '08004', '08006', // connection exceptions
  '53300', // too_many_connections
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'the database system is',
  'terminating connection',
  'Client was closed and is not queryable',
];

export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m));
}

/** Connection trouble becomes a retriable SPB_ERR_STORE_UNAVAILABLE; everything else passes unchanged. */
export function classifyPgError(err: unknown): unknown {
  if (err instanceof SporbarError || !isConnectionError(err)) return err;
  return new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'PostgreSQL cannot be reached right now.', {
    cause: err,
    details: { code: String((err as { code?: unknown }).code ?? '') },
  });
}
