/**
 * One registry of every error Sporbar raises on purpose (after fastify's lib/errors.js):
 * a stable code, an HTTP status for the API, whether a retry may help, and a one-line description
 * that the docs and API answers share. A test checks that every code is documented in docs/errors.md.
 */
export const ERROR_CODES = {
  // Avro codec
  SPB_ERR_BAD_MAGIC: { status: 400, retriable: false, doc: 'The bytes do not start with the Avro single-object marker 0xC3 0x01.' },
  SPB_ERR_UNKNOWN_FINGERPRINT: { status: 400, retriable: false, doc: 'The writer schema fingerprint is not one Sporbar knows.' },
  SPB_ERR_TRUNCATED: { status: 400, retriable: false, doc: 'The bytes end before the Avro body does.' },
  SPB_ERR_TRAILING_BYTES: { status: 400, retriable: false, doc: 'Bytes remain after the Avro body.' },
  SPB_ERR_OVERSIZED: { status: 413, retriable: false, doc: 'The encoded event is larger than the configured limit.' },
  SPB_ERR_MALFORMED_BODY: { status: 400, retriable: false, doc: 'The Avro body cannot be decoded with its writer schema.' },
  SPB_ERR_SCHEMA_INVALID: { status: 400, retriable: false, doc: 'The event does not match its Avro schema; the message names the field.' },
  SPB_ERR_CONTROL_CHARACTER: { status: 400, retriable: false, doc: 'A text field holds a control character (C0 incl. tab and line feed, DEL, C1, line separators, bidi controls, a lone surrogate); the message names the field and the code point, never the value.' },
  SPB_ERR_CPR_IN_TEXT: { status: 400, retriable: false, doc: 'An identifier or free-text field holds something shaped like a CPR number (DDMMYY-SSSS with a valid date); a CPR number goes in the subject only. The value is never echoed.' },
  SPB_ERR_UNKNOWN_EVENT_TYPE: { status: 400, retriable: false, doc: 'No Avro schema exists for this event type.' },
  SPB_ERR_INCOMPATIBLE_SCHEMA: { status: 500, retriable: false, doc: 'A schema version cannot be read by the next one (or the other way round).' },
  // Processing register
  SPB_ERR_REGISTER_INVALID: { status: 500, retriable: false, doc: 'The processing register refers to something it does not define.' },
  // Event store
  SPB_ERR_WRONG_EXPECTED_REVISION: { status: 409, retriable: false, doc: 'The stream is not at the revision the writer expected.' },
  SPB_ERR_EVENT_TOO_LARGE: { status: 413, retriable: false, doc: 'An event is larger than the store accepts.' },
  SPB_ERR_INVALID_STREAM_NAME: { status: 400, retriable: false, doc: 'A stream name is empty, too long or has characters outside [A-Za-z0-9_.:-].' },
  SPB_ERR_INVALID_EVENT: { status: 400, retriable: false, doc: 'An event to append lacks a valid uuid eventId or a type.' },
  SPB_ERR_STORE_CLOSED: { status: 503, retriable: false, doc: 'The event store was closed by its owner.' },
  SPB_ERR_STORE_UNAVAILABLE: { status: 503, retriable: true, doc: 'The event store cannot be reached right now; retry with backoff.' },
  // Ingest and producer
  SPB_ERR_SPOOL_FULL: { status: 503, retriable: true, doc: 'The producer spool is full: the broker has been away too long (backpressure).' },
  SPB_ERR_SPOOL_IO: { status: 503, retriable: true, doc: 'The producer spool cannot open, read or write its directory (the cause names the system error); nothing was accepted.' },
  SPB_ERR_FLUSH_TIMEOUT: { status: 503, retriable: true, doc: 'flush() did not finish in time; the events not yet delivered stay in the spool or in flight (not lost).' },
  SPB_ERR_TRANSPORT_CLOSED: { status: 503, retriable: false, doc: 'The producer transport (or its spool) is closed; it accepts nothing more. Undelivered events stay in the spool for the next start.' },
  SPB_ERR_UNKNOWN_PRODUCER: { status: 403, retriable: false, doc: 'The event names no producer (header `sporbar-producer`), or one that is not in the producer registry; dead-lettered, never stored.' },
  SPB_ERR_BAD_AUTHENTICATOR: { status: 403, retriable: false, doc: "The event's producer authenticator (headers `sporbar-key-id`, `sporbar-auth`) is missing, malformed, made with a key id the registry does not list for that producer, or does not verify over the event's bytes; dead-lettered, never stored." },
  SPB_ERR_NOT_ALLOWED: { status: 403, retriable: false, doc: "The authenticated producer may not send this event type or activity (its allow-list in the producer registry), or the event's `sourceSystem` is not one it may declare; dead-lettered, never stored." },
  SPB_ERR_INVALID_MESSAGE: { status: 400, retriable: false, doc: 'A message handed to the producer transport or spool is malformed: key, value or header values of the wrong type, or a key, header or record of an impossible size.' },
  // Access API
  SPB_ERR_NOT_FOUND: { status: 404, retriable: false, doc: 'Nothing is recorded under that reference.' },
  SPB_ERR_BAD_REQUEST: { status: 400, retriable: false, doc: 'The request does not match the API schema.' },
  SPB_ERR_UNAUTHORIZED: { status: 401, retriable: false, doc: 'The bearer token is missing, malformed, expired or not for this audience.' },
  SPB_ERR_RATE_LIMITED: { status: 429, retriable: true, doc: 'Too many requests from this client; slow down.' },
  SPB_ERR_FORBIDDEN: { status: 403, retriable: false, doc: 'The role in the token may not see this.' },
  // Producer gateway
  SPB_ERR_PRODUCER_NOT_ALLOWED: { status: 403, retriable: false, doc: 'The authenticated client is no known producer, or its producer may not send this event type or activity; nothing of the request was recorded.' },
  SPB_ERR_AUTH_UNAVAILABLE: { status: 503, retriable: true, doc: "The authorization server's discovery document or signing keys cannot be fetched right now, so no token can be checked; retry with backoff." },
  // Log service (and its client in the access API)
  SPB_ERR_LOG_UNAVAILABLE: { status: 503, retriable: true, doc: "The log service (`SPORBAR_LOG_URL`) cannot be reached, did not answer in time or answered something unexpected; the citizen report still answers, its integrity section says `unavailable`." },
  SPB_ERR_NOT_YET_CHECKPOINTED: { status: 409, retriable: true, doc: 'The entry is in the log but no signed checkpoint covers it yet, so no proof can be made; the next checkpoint (within a minute or so) does: retry then.' },
  SPB_ERR_INTERNAL: { status: 500, retriable: false, doc: 'Something failed that should not have; the log has the details (never personal data).' },
  // Witness (c2sp.org/tlog-witness): the add-checkpoint answers, for the witness and the log's client alike
  SPB_ERR_WITNESS_UNKNOWN_LOG: { status: 404, retriable: false, doc: "The witness does not witness the checkpoint's origin (no log of that origin is configured)." },
  SPB_ERR_WITNESS_BAD_SIGNATURE: { status: 403, retriable: false, doc: "The checkpoint carries no valid signature from a key the witness trusts for its origin, or a signature by such a key fails to verify." },
  SPB_ERR_WITNESS_CONFLICT: { status: 409, retriable: false, doc: 'The old size does not match the size of the checkpoint the witness last cosigned for that log; `details.witnessSize` holds the witness\'s size (the body, `text/x.tlog.size`): send a consistency proof from there.' },
  SPB_ERR_WITNESS_INCONSISTENT: { status: 422, retriable: false, doc: 'The checkpoint is not consistent with what the witness saw: a consistency proof that does not verify, a different root for the same size (a fork), a proof from size 0, or a size-0 checkpoint whose root is not the empty tree\'s. Never cosigned; the witness keeps the signed checkpoint as evidence.' },
  SPB_ERR_WITNESS_UNAVAILABLE: { status: 503, retriable: true, doc: 'The witness cannot be reached, timed out, or answered with a server error; retry later (a checkpoint waits for its cosignatures, the log goes on).' },
  // Configuration
  SPB_ERR_CONFIG: { status: 500, retriable: false, doc: 'The configuration is missing a value or has a wrong one; the service refuses to start.' },
} as const satisfies Record<string, { status: number; retriable: boolean; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SporbarError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retriable: boolean;
  /** Structured facts about the failure (field path, offset, fingerprint ...). Never personal data. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SporbarError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details ?? {};
  }
}

export const isSporbarError = (e: unknown, code?: ErrorCode): e is SporbarError =>
  e instanceof SporbarError && (code === undefined || e.code === code);
