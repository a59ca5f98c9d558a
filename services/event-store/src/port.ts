/**
 * The event store port: the system of record. Every adapter (pglite, postgres, eventstoredb)
 * implements exactly this and passes the one conformance suite in test/conformance.ts.
 *
 * Positions and revisions are bigint: PostgreSQL bigint and EventStoreDB commit positions both
 * exceed what a JS number holds safely in the long run.
 */

/** What the writer expects of the stream before appending. */
export type ExpectedRevision =
  | 'any' // no concurrency check
  | 'no_stream' // the stream must not exist yet
  | 'stream_exists' // the stream must have at least one event
  | bigint; // the stream's last revision must be exactly this (revisions start at 0n)

export interface EventToAppend {
  /** uuid; the idempotency key: the same eventId is stored once, however often it is appended. */
  readonly eventId: string;
  /** Avro event type name, e.g. 'DisclosureRecorded'. */
  readonly type: string;
  /** The stored bytes (Avro single-object encoding). Leaves of the Merkle log hash exactly these. */
  readonly data: Uint8Array;
  /** Small non-personal facts (schema fingerprint, classification, source). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface RecordedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
  readonly streamName: string;
  readonly streamRevision: bigint;
  /** Position in the global log: strictly increasing in commit order; gaps are allowed. */
  readonly globalPosition: bigint;
  readonly recordedAt: Date;
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision; // default 'any'
}

export interface AppendResult {
  /** The stream's last revision after the append (-1n never happens: an empty append is refused). */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last event this call stored, or of the last duplicate if all were duplicates. */
  readonly lastPosition: bigint;
  /** eventIds stored by this call. */
  readonly appended: readonly string[];
  /** eventIds that were already in the store and were not stored again. */
  readonly duplicates: readonly string[];
}

export interface AppendRequest {
  readonly streamName: string;
  readonly events: readonly EventToAppend[];
  readonly options?: AppendOptions;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards'; // default forwards
  /** Inclusive start revision (forwards: default 0n; backwards: default the end). */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: read events whose globalPosition > after. Default: from the beginning. */
  readonly after?: bigint;
  /** How many rows one round trip fetches; the iterator streams, it never buffers the log. */
  readonly batchSize?: number;
  readonly maxCount?: number;
}

/** One event of the global log as `EventStore.scanAll` hands it over. */
export interface ScannedEvent {
  readonly position: bigint;
  readonly eventId: string;
  /**
   * The stored bytes. May be a view into a network buffer that is valid during the callback only:
   * copy it (`Buffer.from(data)`) to keep it.
   */
  readonly data: Uint8Array;
  /** '' in a 'leaf' scan whose adapter skipped it. */
  readonly type: string;
  /** '' in a 'leaf' scan whose adapter skipped it. */
  readonly streamName: string;
  /** The epoch in a 'leaf' scan whose adapter skipped it. */
  readonly recordedAt: Date;
  /** {} when the event has none, and in a 'leaf' scan whose adapter skipped it. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ScanAllOptions {
  /** Exclusive: events whose position > after. Default: from the beginning. */
  readonly after?: bigint;
  /** Inclusive: only events whose position <= upTo. Default: to the end. */
  readonly upTo?: bigint;
  /** Stop after this many events. */
  readonly maxCount?: number;
  /**
   * 'leaf': the caller needs only position, eventId and data (the Merkle leaf); the adapter may skip
   * the other columns ('' / the epoch / {}). Default 'full'.
   */
  readonly columns?: 'full' | 'leaf';
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: deliver events with globalPosition > after. Default: from the beginning. */
  readonly after?: bigint;
  readonly batchSize?: number;
}

export interface Subscription {
  /** Stops delivery; resolves when the handler is no longer running. */
  stop(): Promise<void>;
  /** Resolves when the subscription ends (stop() or a handler error, which rejects it). */
  readonly done: Promise<void>;
}

/** Retention settings per stream, applied by later issues (crypto-shredding, retention worker). */
export interface StreamMetadata {
  /** Events older than this many seconds may be expired. */
  readonly maxAgeSeconds?: number;
  /** Events with streamRevision < truncateBefore are no longer returned by readStream. */
  readonly truncateBefore?: bigint;
  readonly custom?: Readonly<Record<string, string>>;
}

export interface EventStore {
  readonly adapter: 'pglite' | 'postgres' | 'eventstoredb';
  append(streamName: string, events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Appends to several streams in one call (the ingest's batches span many subjects). SQL adapters:
   * one transaction, all or nothing, one commit. EventStoreDB has no multi-stream transaction: the
   * appends run one after another, each atomic, and a failure leaves the earlier ones in place
   * (safe for the ingest, which retries the batch and is deduplicated by eventId).
   */
  appendMany(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The global log in order, one event per call of `onEvent`: the bulk read of whole-log readers
   * (the auditor's verify, export and replay). Each adapter reads its fastest way: PostgreSQL one
   * `COPY ... TO STDOUT (FORMAT binary)`, so one snapshot, rows handed over as the socket is read;
   * PGlite keyset pages; EventStoreDB `$all`. If `onEvent` returns a promise, reading pauses until it
   * settles (backpressure); a throw or a rejection ends the scan with that error. `event.data` may
   * be valid during the call only. Resolves when the last event has been handled.
   */
  scanAll(onEvent: (event: ScannedEvent) => void | Promise<void>, options?: ScanAllOptions): Promise<void>;
  /**
   * True when the adapter hands out gap-free positions (1, 2, 3, ... in commit order: PGlite and
   * PostgreSQL), so a hole in the log is a deleted event. False where gaps are normal (EventStoreDB).
   */
  readonly contiguousPositions: boolean;
  /**
   * Adapters whose append function keeps a position counter (PGlite and PostgreSQL): its value, read
   * from the counter itself, not from the events (0n when nothing was appended). Above the log's last
   * position it means events are missing from the tail. Absent where there is no such counter
   * (EventStoreDB: `headPosition` is read from the log itself there).
   */
  lastAssignedPosition?(): Promise<bigint>;
  /**
   * Where events are in the global log, by eventId (lower case; ids not stored are absent). SQL
   * adapters: one query on the unique event_id index. With `contiguousPositions`, a reader maps an
   * event to its Merkle leaf (position − 1) without an index of its own (the log service). Absent
   * where the store has no such index (EventStoreDB).
   */
  positionsOf?(eventIds: readonly string[]): Promise<ReadonlyMap<string, bigint>>;
  /** Catch-up from the checkpoint, then live. The handler runs one event at a time, in global order. */
  subscribe(handler: (event: RecordedEvent) => Promise<void> | void, options?: SubscribeOptions): Subscription;
  /** The highest globalPosition a reader may currently see (0n when empty). */
  headPosition(): Promise<bigint>;
  getStreamMetadata(streamName: string): Promise<StreamMetadata>;
  setStreamMetadata(streamName: string, metadata: StreamMetadata): Promise<void>;
  close(): Promise<void>;
}

/** 1 MiB: larger events are refused with SPB_ERR_EVENT_TOO_LARGE. */
export const MAX_EVENT_BYTES = 1024 * 1024;
export const STREAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
