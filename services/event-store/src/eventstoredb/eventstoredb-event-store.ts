/**
 * EventStoreDB adapter (@eventstore/db-client, gRPC).
 *
 * - Streams map 1:1 (optionally under a `namespace` prefix, which isolates tenants or test runs that
 *   share one server). Expected revisions map 1:1 to ESDB's.
 * - The global log is `$all`, filtered server-side by a regular expression on the event type (the
 *   Sporbar type list, a type prefix, or by default every non-system type); positions are ESDB
 *   commit positions (on ESDB >= 20.6 every event record has commit == prepare, so they are strictly
 *   increasing per event).
 * - Idempotency across restarts: ESDB's own eventId check only covers exact-revision retries and a
 *   best-effort cache for `any`, and it is per stream, while Sporbar's eventId is unique across the
 *   whole store. So the adapter keeps a tiny index: after a successful append, one event per eventId
 *   is written to `$sporbar-eventid-<namespace><eventId>` with expectedRevision no_stream, pointing at
 *   (stream, revision). Before appending, the index is read and already-known ids are reported as
 *   duplicates. The index is written AFTER the append on purpose: if the process dies between the
 *   two, a retry may store that event a second time (visible, detectable), whereas an index written
 *   first could mark an event as stored that never was (silently lost - worse for an audit log).
 *   Exact-revision retries are covered by ESDB's own idempotency even in that window.
 *   Index events have a `$`-type, so the global-log filter never returns them.
 */
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  binaryEvent,
  eventTypeFilter,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { SporbarError, storeClosed } from '../errors.ts';
import { retry, type RetryOptions } from '@sporbar/common/retry';
import { assertStreamName, expectedRevisionToString, validateAppend } from '../validate.ts';
import { validateStreamMetadata } from '../postgres/stream-metadata.ts';
import type { AppendResult, EventStore, ReadAllOptions, RecordedEvent, StreamMetadata, Subscription } from '../port.ts';
import { scanLimit } from '../postgres/scan-all.ts';

export interface EventStoreDbEventStoreOptions {
  /** esdb://host:2113?tls=false */
  readonly connectionString: string;
  /** The event types of Sporbar's global log (exact names). */
  readonly eventTypes?: readonly string[];
  /** Alternatively: every type starting with this prefix. Default: every non-system ($) type. */
  readonly eventTypePrefix?: string;
  /** Prefix for stream names and the eventId index (isolation on a shared server). Default ''. */
  readonly namespace?: string;
  readonly retry?: RetryOptions;
}

const INDEX_EVENT_TYPE = '$sporbar-eventid';
/** Records per $all read of `scanAll`. */
const SCAN_BATCH = 1000;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function globalLogRegex(options: Pick<EventStoreDbEventStoreOptions, 'eventTypes' | 'eventTypePrefix'>): string {
  if (options.eventTypes && options.eventTypes.length > 0) return `^(?:${options.eventTypes.map(escapeRegex).join('|')})$`;
  if (options.eventTypePrefix) return `^${escapeRegex(options.eventTypePrefix)}`;
  return '^[^$]';
}

const toRevision = (e: 'any' | 'no_stream' | 'stream_exists' | bigint): AppendExpectedRevision =>
  e === 'any' ? ANY : e === 'no_stream' ? NO_STREAM : e === 'stream_exists' ? STREAM_EXISTS : e;

function classify(err: unknown): unknown {
  if (err instanceof UnavailableError) {
    return new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'EventStoreDB cannot be reached right now.', { cause: err });
  }
  return err;
}

export async function createEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): Promise<EventStore> {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const ns = options.namespace ?? '';
  const regex = globalLogRegex(options);
  const typeMatcher = new RegExp(regex);
  const retryOptions: RetryOptions = { maxAttempts: 6, ...options.retry };
  const run = <T>(op: () => Promise<T>) =>
    retry(async () => {
      try {
        return await op();
      } catch (err) {
        throw classify(err);
      }
    }, retryOptions);
  let closed = false;
  const subscriptions = new Set<Subscription>();
  const assertOpen = () => {
    if (closed) throw storeClosed('eventstoredb');
  };
  const streamId = (name: string) => `${ns}${name}`;
  const indexStream = (eventId: string) => `$sporbar-eventid-${ns}${eventId}`;

  const toRecorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined => {
    const e = resolved.event;
    if (!e || !(e.data instanceof Uint8Array)) return undefined;
    const md = e.metadata;
    const metadata =
      md && !(md instanceof Uint8Array) && typeof md === 'object' && !Array.isArray(md)
        ? Object.fromEntries(Object.entries(md).filter(([, v]) => typeof v === 'string')) as Record<string, string>
        : {};
    return {
      eventId: e.id,
      type: e.type,
      data: e.data,
      metadata,
      streamName: e.streamId.slice(ns.length),
      streamRevision: e.revision,
      globalPosition: e.position?.commit ?? resolved.commitPosition ?? 0n,
      recordedAt: e.created,
    };
  };
  const inGlobalLog = (r: RecordedEvent | undefined, streamIdFull: string): r is RecordedEvent =>
    r !== undefined && typeMatcher.test(r.type) && streamIdFull.startsWith(ns) && !streamIdFull.startsWith('$');

  /** The stored pointer for an eventId, or undefined. */
  const lookup = async (eventId: string): Promise<{ stream: string; revision: bigint } | undefined> => {
    try {
      for await (const r of client.readStream(indexStream(eventId), { maxCount: 1, fromRevision: START })) {
        const d = r.event?.data as { stream?: string; revision?: string } | undefined;
        if (d?.stream !== undefined && d.revision !== undefined) return { stream: d.stream, revision: BigInt(d.revision) };
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return undefined;
      throw err;
    }
    return undefined;
  };

  const positionOf = async (stream: string, revision: bigint): Promise<bigint> => {
    for await (const r of client.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
      return r.event?.position?.commit ?? r.commitPosition ?? 0n;
    }
    return 0n;
  };

  const lastRevision = async (stream: string): Promise<bigint> => {
    try {
      for await (const r of client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        return r.event?.revision ?? -1n;
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return -1n;
      throw err;
    }
    return -1n;
  };

  const append = async (
    streamName: string,
    events: Parameters<EventStore['append']>[1],
    appendOptions: Parameters<EventStore['append']>[2],
  ): Promise<AppendResult> => {
    assertOpen();
    const valid = validateAppend(streamName, events, appendOptions);
    const stream = streamId(streamName);
    return run(async () => {
      const known = await Promise.all(valid.events.map(async (e) => ({ e, at: await lookup(e.eventId) })));
      const fresh = known.filter((k) => !k.at).map((k) => k.e);
      const dups = known.filter((k) => k.at);
      if (fresh.length === 0) {
        const last = dups.at(-1)?.at;
        return {
          nextExpectedRevision: await lastRevision(stream),
          lastPosition: last ? await positionOf(last.stream, last.revision) : 0n,
          appended: [],
          duplicates: [...dups.map((d) => d.e.eventId), ...valid.inBatchDuplicates],
        };
      }
      let result;
      try {
        result = await client.appendToStream(
          stream,
          fresh.map((e) => binaryEvent({ id: e.eventId, type: e.type, data: e.data, metadata: { ...e.metadata } })),
          { expectedRevision: toRevision(valid.expectedRevision) },
        );
      } catch (err) {
        if (err instanceof WrongExpectedVersionError) {
          throw new SporbarError('SPB_ERR_WRONG_EXPECTED_REVISION', `Stream ${streamName} is not at the expected revision.`, {
            cause: err,
            details: {
              streamName,
              expected: expectedRevisionToString(valid.expectedRevision),
              actual: typeof err.actualVersion === 'bigint' ? err.actualVersion.toString() : 'no_stream',
            },
          });
        }
        throw err;
      }
      const first = result.nextExpectedRevision - BigInt(fresh.length) + 1n;
      await Promise.all(
        fresh.map(async (e, i) => {
          try {
            await client.appendToStream(
              indexStream(e.eventId),
              jsonEvent({ type: INDEX_EVENT_TYPE, data: { stream, revision: (first + BigInt(i)).toString() } }),
              { expectedRevision: NO_STREAM },
            );
          } catch (err) {
            if (!(err instanceof WrongExpectedVersionError)) throw err;
          }
        }),
      );
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        lastPosition: result.position?.commit ?? 0n,
        appended: fresh.map((e) => e.eventId),
        duplicates: [...dups.map((d) => d.e.eventId), ...valid.inBatchDuplicates],
      };
    });
  };

  /** The port's readAll; scanAll reads through it as well. */
  const readAll = async function* (readOptions?: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    assertOpen();
    const after = readOptions?.after ?? 0n;
    const batchSize = readOptions?.batchSize ?? 500;
    let remaining = readOptions?.maxCount ?? Number.POSITIVE_INFINITY;
    // $all reads are inclusive of fromPosition: remember the last record read and skip up to it.
    let cursor: Position = { commit: after, prepare: after };
    const beyond = (p: Position) => p.commit > cursor.commit || (p.commit === cursor.commit && p.prepare > cursor.prepare);
    while (remaining > 0) {
      let read = 0;
      const batch = await run(async () => {
        const rows: AllStreamResolvedEvent[] = [];
        for await (const resolved of client.readAll({
          fromPosition: cursor.commit > 0n ? cursor : START,
          maxCount: batchSize,
          direction: FORWARDS,
        })) {
          rows.push(resolved);
        }
        return rows;
      });
      for (const resolved of batch) {
        const pos = resolved.event?.position;
        if (!pos || !beyond(pos)) continue;
        read++;
        cursor = pos;
        const r = toRecorded(resolved);
        if (!inGlobalLog(r, resolved.event?.streamId ?? '$') || r.globalPosition <= after) continue;
        yield r;
        if (--remaining <= 0) return;
      }
      if (read === 0) return;
    }
  };

  return {
    adapter: 'eventstoredb',
    append,
    async appendMany(requests) {
      const out: AppendResult[] = [];
      for (const r of requests) out.push(await append(r.streamName, r.events, r.options));
      return out;
    },

    async *readStream(streamName, readOptions) {
      assertOpen();
      assertStreamName(streamName);
      const backwards = readOptions?.direction === 'backwards';
      try {
        const read = client.readStream(streamId(streamName), {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision: readOptions?.fromRevision ?? (backwards ? END : START),
          ...(readOptions?.maxCount !== undefined ? { maxCount: readOptions.maxCount } : {}),
        });
        for await (const resolved of read) {
          const r = toRecorded(resolved);
          if (r) yield r;
        }
      } catch (err) {
        if (err instanceof StreamNotFoundError) return;
        throw classify(err);
      }
    },

    readAll,

    async scanAll(onEvent, scanOptions) {
      assertOpen();
      let remaining = scanLimit(scanOptions);
      if (remaining === 0) return;
      // $all has no upper bound to read to: stop at the first event past upTo. Every column is read anyway.
      for await (const e of readAll({ after: scanOptions?.after ?? 0n, batchSize: SCAN_BATCH })) {
        if (scanOptions?.upTo !== undefined && e.globalPosition > scanOptions.upTo) return;
        const pending = onEvent({ position: e.globalPosition, eventId: e.eventId, data: e.data, type: e.type, streamName: e.streamName, recordedAt: e.recordedAt, metadata: e.metadata });
        if (pending) await pending;
        if (--remaining <= 0) return;
      }
    },

    // Commit positions have gaps, and ESDB keeps no counter of its own beside the log (no lastAssignedPosition).
    contiguousPositions: false,

    subscribe(handler, subscribeOptions) {
      assertOpen();
      const after = subscribeOptions?.after ?? 0n;
      const sub = client.subscribeToAll({
        fromPosition: after > 0n ? { commit: after, prepare: after } : START,
        filter: eventTypeFilter({ regex }),
      });
      let stopped = false;
      const done = (async () => {
        for await (const resolved of sub) {
          if (stopped) break;
          const r = toRecorded(resolved);
          if (!inGlobalLog(r, resolved.event?.streamId ?? '$') || r.globalPosition <= after) continue;
          await handler(r);
        }
      })().finally(() => {
        subscriptions.delete(subscription);
        void sub.unsubscribe().catch(() => undefined);
      });
      done.catch(() => undefined);
      const subscription: Subscription = {
        done,
        async stop() {
          stopped = true;
          await sub.unsubscribe().catch(() => undefined);
          await done.catch(() => undefined);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async headPosition() {
      assertOpen();
      return run(async () => {
        for await (const resolved of client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1000 })) {
          const r = toRecorded(resolved);
          if (inGlobalLog(r, resolved.event?.streamId ?? '$')) return r.globalPosition;
        }
        return 0n; // nothing of ours in the last 1000 records of $all: report from the start
      });
    },

    async getStreamMetadata(streamName) {
      assertOpen();
      assertStreamName(streamName);
      const res = await run(() => client.getStreamMetadata(streamId(streamName)));
      const m = res.metadata ?? {};
      const custom = m['sporbar.custom'];
      return {
        ...(typeof m.maxAge === 'number' ? { maxAgeSeconds: m.maxAge } : {}),
        ...(typeof m.truncateBefore === 'number' ? { truncateBefore: BigInt(m.truncateBefore) } : {}),
        ...(custom && typeof custom === 'object' ? { custom: custom as Record<string, string> } : {}),
      } satisfies StreamMetadata;
    },

    async setStreamMetadata(streamName, metadata) {
      assertOpen();
      assertStreamName(streamName);
      validateStreamMetadata(metadata);
      await run(() =>
        client.setStreamMetadata(streamId(streamName), {
          ...(metadata.maxAgeSeconds !== undefined ? { maxAge: metadata.maxAgeSeconds } : {}),
          ...(metadata.truncateBefore !== undefined ? { truncateBefore: Number(metadata.truncateBefore) } : {}),
          ...(metadata.custom !== undefined ? { 'sporbar.custom': { ...metadata.custom } } : {}),
        }),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      await client.dispose();
    },
  };
}
