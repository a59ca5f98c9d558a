import type { EventStore, ScanAllOptions, ScannedEvent } from '@sporbar/event-store';
import { SUBJECT_MAP_STREAM } from '../map/log-leaves.ts';

/**
 * Where the auditor reads the global log from: a thin wrapper over the EventStore port, so the
 * auditor works with every adapter and knows nothing of a store's tables. The port's `scanAll` is
 * each adapter's fastest read (PostgreSQL: one `COPY ... TO STDOUT (FORMAT binary)`, one snapshot,
 * rows handed over as the socket is read, about 2-3x its keyset pages, see bench/; PGlite: keyset
 * pages; EventStoreDB: `$all`).
 *
 * `scan` calls `onRow` once per event, in global order. `row.data` may be a view into a network
 * buffer: it is valid during the call only (copy it to keep it). If `onRow` returns a promise,
 * reading pauses until it settles (backpressure for writers such as `export`).
 */
export type LogRow = ScannedEvent;

/** `after` (exclusive), `upTo` (inclusive), `maxCount`, and `columns: 'leaf'` when only position, eventId and data are needed. */
export type ScanOptions = ScanAllOptions;

export interface LogSource {
  readonly description: string;
  /** True when the store promises gap-free positions (PGlite and PostgreSQL adapters: 1, 2, 3, ...). */
  readonly contiguousPositions: boolean;
  scan(onRow: (row: LogRow) => void | Promise<void>, options?: ScanOptions): Promise<void>;
  /** Every checkpoint in the checkpoint stream, cheap to find; a hint only (verify's pass finds every checkpoint by its bytes). */
  checkpointCandidates(): Promise<{ position: bigint; data: Uint8Array; origin?: string }[]>;
  /** Every subject-map commitment in its stream (SUBJECT_MAP_STREAM), cheap to find; a hint only, like checkpointCandidates. */
  mapCommitmentCandidates?(): Promise<{ position: bigint; data: Uint8Array }[]>;
  /** Stores that keep a position counter (the SQL adapters): the last position their append function handed out. */
  lastAssignedPosition?(): Promise<bigint | undefined>;
}

export const CHECKPOINT_STREAM = 'log-checkpoints';

/** The log of `store`, through the port. `description` names it in reports (default: the adapter). */
export function storeLogSource(store: EventStore, description = `event store (${store.adapter})`): LogSource {
  const counter = store.lastAssignedPosition?.bind(store);
  return {
    description,
    contiguousPositions: store.contiguousPositions,
    scan: (onRow, options) => store.scanAll(onRow, options),
    async checkpointCandidates() {
      const out: { position: bigint; data: Uint8Array; origin?: string }[] = [];
      for await (const e of store.readStream(CHECKPOINT_STREAM)) {
        const origin = e.metadata['origin'];
        out.push({ position: e.globalPosition, data: e.data, ...(origin ? { origin } : {}) });
      }
      return out;
    },
    async mapCommitmentCandidates() {
      const out: { position: bigint; data: Uint8Array }[] = [];
      for await (const e of store.readStream(SUBJECT_MAP_STREAM)) out.push({ position: e.globalPosition, data: e.data });
      return out;
    },
    ...(counter ? { lastAssignedPosition: counter } : {}),
  };
}
