import { storeClosed } from '../errors.ts';
import { startPollingSubscription } from '../subscription.ts';
import { assertStreamName, validateAppend } from '../validate.ts';
import type { Waker } from '../waker.ts';
import type { EventStore, ScanAllOptions, ScannedEvent, StreamMetadata, Subscription } from '../port.ts';
import type { SqlClient } from '@sporbar/common/sql';
import { appendAnyMany, appendEvents } from './append.ts';
import { headPosition } from './head-position.ts';
import { positionsOf } from './positions-of.ts';
import { readAllBatch, readAllPaged } from './read-all.ts';
import { readStreamPage, readStreamPaged } from './read-stream.ts';
import { scanAllPage, scanAllPaged } from './scan-all.ts';
import { getStreamMetadata, setStreamMetadata, validateStreamMetadata } from './stream-metadata.ts';

export interface SqlEventStoreParams {
  readonly adapter: 'pglite' | 'postgres';
  readonly db: SqlClient;
  readonly schema: string;
  readonly waker: Waker;
  readonly pollIntervalMs: number;
  /** Wraps every database call (the postgres adapter retries connection errors here). */
  readonly run: <T>(op: () => Promise<T>) => Promise<T>;
  /** Errors a subscription keeps retrying instead of ending. */
  readonly isRetriable: (err: unknown) => boolean;
  /** The adapter's own `scanAll` (postgres: COPY binary); default: keyset pages through `db`. */
  readonly scanAll?: (onEvent: (event: ScannedEvent) => void | Promise<void>, options: ScanAllOptions | undefined) => Promise<void>;
  /** Called after an append committed (in-process wake). */
  readonly afterAppend?: () => void;
  /** Releases what the adapter owns (pool, PGlite, LISTEN connection). */
  readonly dispose: () => Promise<void>;
}

const DEFAULT_BATCH = 500;
/** Events per keyset page of `scanAll`: few round trips, one page in memory. */
const SCAN_PAGE = 5000;

/** The EventStore over the SQL in this folder; shared by the postgres and the pglite adapter. */
export function createSqlEventStore(p: SqlEventStoreParams): EventStore {
  const { db, schema } = p;
  let closed = false;
  let closing: Promise<void> | undefined;
  const subscriptions = new Set<Subscription>();
  const assertOpen = () => {
    if (closed) throw storeClosed(p.adapter);
  };

  return {
    adapter: p.adapter,

    async append(streamName, events, options) {
      assertOpen();
      const valid = validateAppend(streamName, events, options);
      const result = await p.run(() => appendEvents(db, schema, streamName, valid));
      if (result.appended.length > 0) p.afterAppend?.();
      return result;
    },

    async appendMany(requests) {
      assertOpen();
      const valid = requests.map((r) => ({ streamName: r.streamName, append: validateAppend(r.streamName, r.events, r.options) }));
      if (valid.length === 0) return [];
      // Without expected revisions (the ingest's case) the whole batch is one statement.
      const allAny = valid.every((v) => v.append.expectedRevision === 'any');
      const results = await p.run(() =>
        allAny
          ? appendAnyMany(db, schema, valid)
          : db.transaction(async (tx) => {
              const out = [];
              for (const v of valid) out.push(await appendEvents(tx, schema, v.streamName, v.append));
              return out;
            }),
      );
      if (results.some((r) => r.appended.length > 0)) p.afterAppend?.();
      return results;
    },

    async *readStream(streamName, options) {
      assertOpen();
      assertStreamName(streamName);
      yield* readStreamPaged(
        (direction, from, limit) => {
          assertOpen();
          return p.run(() => readStreamPage(db, schema, streamName, direction, from, limit));
        },
        options,
      );
    },

    async *readAll(options) {
      assertOpen();
      yield* readAllPaged(
        (after, limit) => {
          assertOpen();
          return p.run(() => readAllBatch(db, schema, after, limit));
        },
        options?.after ?? 0n,
        options?.batchSize ?? DEFAULT_BATCH,
        options?.maxCount ?? Number.POSITIVE_INFINITY,
      );
    },

    async scanAll(onEvent, options) {
      assertOpen();
      if (p.scanAll) return p.scanAll(onEvent, options);
      const columns = options?.columns ?? 'full';
      await scanAllPaged(
        (after, limit) => {
          assertOpen();
          return p.run(() => scanAllPage(db, schema, after, options?.upTo, limit, columns));
        },
        onEvent,
        options,
        SCAN_PAGE,
      );
    },

    contiguousPositions: true,

    async lastAssignedPosition() {
      assertOpen();
      // The counter the append function moves (<schema>.positions), which headPosition reads too.
      return p.run(() => headPosition(db, schema));
    },

    async positionsOf(eventIds) {
      assertOpen();
      return p.run(() => positionsOf(db, schema, eventIds));
    },

    subscribe(handler, options) {
      assertOpen();
      const sub: Subscription = startPollingSubscription({
        readBatch: (after, limit) => p.run(() => readAllBatch(db, schema, after, limit)),
        handler,
        waker: p.waker,
        after: options?.after ?? 0n,
        batchSize: options?.batchSize ?? DEFAULT_BATCH,
        pollIntervalMs: p.pollIntervalMs,
        isRetriable: p.isRetriable,
        onStopped: () => subscriptions.delete(sub),
      });
      subscriptions.add(sub);
      return sub;
    },

    async headPosition() {
      assertOpen();
      return p.run(() => headPosition(db, schema));
    },

    async getStreamMetadata(streamName) {
      assertOpen();
      assertStreamName(streamName);
      return p.run(() => getStreamMetadata(db, schema, streamName));
    },

    async setStreamMetadata(streamName: string, metadata: StreamMetadata) {
      assertOpen();
      assertStreamName(streamName);
      validateStreamMetadata(metadata);
      await p.run(() => setStreamMetadata(db, schema, streamName, metadata));
    },

    close() {
      closed = true;
      closing ??= (async () => {
        await Promise.all([...subscriptions].map((s) => s.stop()));
        await p.dispose();
      })();
      return closing;
    },
  };
}
