import type { EventStore, RecordedEvent, Subscription } from '@sporbar/event-store';
import type { CheckpointSigned, Codec } from '@sporbar/schemas';
import { ORIGIN_METADATA_KEY, checkpointMatcher, signCheckpointEventAsync } from './checkpoint/checkpoint-event.ts';
import type { CheckpointSigner } from './checkpoint/signed-tree-head.ts';
import { CHECKPOINT_STREAM } from './log/source.ts';
import { CompactRange } from './merkle/compact-range.ts';
import { leafHash } from './merkle/rfc9162.ts';
import { SubjectMapFollower } from './map/follower.ts';
import type { SubjectMapKeys } from './map/keys.ts';
import { SUBJECT_MAP_STREAM, eventTypeMatcher, mapLeafReader, subjectMapCommitmentId, type MapLeaf } from './map/log-leaves.ts';

/** The subject map's commitments (docs/subject-map.md): when to commit a new map root as a leaf of the log. */
export interface SubjectMapCommitOptions {
  /** Keep a map of its own with this key… */
  readonly keys?: SubjectMapKeys;
  /**
   * …or commit the map a log service in the same process keeps (`LogService.subjectMapFollower`):
   * one map per process instead of two. The log service feeds it; the checkpointer advances it to the
   * leaves fed so far when it commits, and the log service checks each commitment once a checkpoint
   * covers it.
   */
  readonly shared?: () => SubjectMapFollower | undefined;
  /** Commit once this many disclosures wait outside the map. Default 100 000. */
  readonly everyEvents?: number;
  /** …or when this many ms passed since the last commitment and at least one waits. Default 60 000. */
  readonly everyMs?: number;
  /**
   * …or, with nothing waiting, when the newest commitment in the log is older than this (by its
   * `occurredAt`): a heartbeat, so that a quiet log's map is never older than this plus a checkpoint
   * interval and verifiers can refuse an older one (docs/subject-map.md, "Freshness"). At most one
   * per heartbeat: the heartbeat commitment is itself the newest. None before the first commitment
   * (a log with no disclosure has no map to keep fresh). Default 6 hours (the verifiers allow 6 h + 1 h).
   */
  readonly heartbeatMs?: number;
}

export interface CheckpointerOptions {
  readonly store: EventStore;
  readonly codec: Codec;
  readonly signer: CheckpointSigner;
  /** `sporbar.v1/<logId>` (see `logOrigin`). */
  readonly origin: string;
  /** Sign once this many new events (not counting checkpoints) are uncovered. Default 1000. */
  readonly everyEvents?: number;
  /** …or after this many ms if at least one event is uncovered. Default 10 000. */
  readonly everyMs?: number;
  readonly onError?: (error: unknown) => void;
  /** Called after each checkpoint is appended (tests, logs). */
  readonly onCheckpoint?: (checkpoint: { treeSize: number; rootHash: Buffer; eventId: string; text: string }) => void;
  /** Called after each `everyMs` tick with the size it signed (undefined: nothing was uncovered). Tests wait on it instead of sleeping. */
  readonly onTick?: (signedSize: number | undefined) => void;
  /**
   * Keep the subject map and commit its root (a `SubjectMapCommitted` leaf in 'log-subject-map') before
   * signing, at its own cadence; the checkpointer then signs a checkpoint covering the commitment as
   * soon as it sees it in the log. Without it, no map is kept.
   */
  readonly subjectMap?: SubjectMapCommitOptions;
  /** Called after each map commitment is appended. */
  readonly onMapCommitment?: (commitment: { treeSize: number; rootHash: Buffer; eventId: string }) => void;
}

export interface Checkpointer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Signs and appends a checkpoint of the current tree now, if any event is uncovered. Returns its size. */
  checkpointNow(): Promise<number | undefined>;
  /**
   * Commits the subject map now if any disclosure waits outside it (or its heartbeat is due), and resolves once a signed
   * checkpoint covers that commitment, with the map's tree size (undefined: nothing to commit, or no map).
   */
  commitMapNow(timeoutMs?: number): Promise<number | undefined>;
  /** Leaves seen so far (the tree size of the next checkpoint). */
  readonly treeSize: number;
  /** Size of the latest checkpoint seen in the log or written. */
  readonly latestCheckpointSize: number;
}

/**
 * Signs tree heads of the global log and stores them as `CheckpointSigned` events in the stream
 * 'log-checkpoints'. On start it rebuilds the tree state from the log itself (a streaming
 * CompactRange: O(log n) memory, nothing cached is trusted), then follows the live subscription.
 *
 * A checkpoint is due when `everyEvents` events that are not checkpoints are uncovered, or when
 * `everyMs` passed and at least one is: a checkpoint is itself a leaf of later trees, and counting it
 * would make the checkpointer sign forever. The eventId is derived from (origin, treeSize), so a
 * restart or a second instance that signs the same size writes nothing new (the store dedupes).
 */
export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { store, codec, signer, origin } = options;
  const everyEvents = options.everyEvents ?? 1000;
  const everyMs = options.everyMs ?? 10_000;
  if (!Number.isSafeInteger(everyEvents) || everyEvents < 1) throw new RangeError(`everyEvents must be ≥ 1, got ${everyEvents}`);
  const isCheckpoint = checkpointMatcher(codec);
  const mapOptions = options.subjectMap;
  const mapEveryEvents = mapOptions?.everyEvents ?? 100_000;
  const mapEveryMs = mapOptions?.everyMs ?? 60_000;
  const mapHeartbeatMs = mapOptions?.heartbeatMs ?? 6 * 3600_000;
  if (!Number.isSafeInteger(mapHeartbeatMs) || mapHeartbeatMs < 1) throw new RangeError(`subjectMap.heartbeatMs must be ≥ 1, got ${mapHeartbeatMs}`);
  if (!Number.isSafeInteger(mapEveryEvents) || mapEveryEvents < 1) throw new RangeError(`subjectMap.everyEvents must be ≥ 1, got ${mapEveryEvents}`);
  if (mapOptions && !mapOptions.keys === !mapOptions.shared) throw new RangeError('subjectMap: give keys (a map of its own) or shared (a log service\'s), one of them');
  /** The checkpointer's own map (with `keys`); with `shared` the log service's is committed instead. */
  let follower: SubjectMapFollower | undefined;
  const isCommitment = eventTypeMatcher(codec, 'SubjectMapCommitted');
  const readLeaf = mapLeafReader(codec);
  const OTHER: MapLeaf = { kind: 'other' };
  let lastMapCommitAt = 0;
  /** When the newest commitment in the log was made (its occurredAt, ms; never after the moment it was seen), or undefined before the first. */
  let newestCommitmentAt: number | undefined;
  /** Leaf index of each commitment seen, by eventId (the newest few: commitMapNow waits on them). */
  const commitmentLeaves = new Map<string, number>();

  let range = new CompactRange();
  let position = 0n;
  let latestSize = 0;
  /** Indexes of checkpoint leaves at or after latestSize (they do not count as uncovered). */
  let checkpointLeaves: number[] = [];
  let lastRealIndex = -1;
  let subscription: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const uncovered = (): number => (lastRealIndex < latestSize ? 0 : range.size - latestSize - checkpointLeaves.length);

  /** Feeds one leaf; true when it is a map commitment (which the next checkpoint must cover at once). */
  const observe = (e: Pick<RecordedEvent, 'data' | 'globalPosition'>): boolean => {
    const index = range.size;
    const hash = leafHash(e.data);
    range.appendLeafHash(hash);
    position = e.globalPosition;
    if (mapOptions) {
      const leaf = follower ? follower.observe(index, e.data, hash) : isCommitment(e.data) ? readLeaf(e.data) : OTHER;
      if (leaf.kind === 'commitment') {
        lastRealIndex = index; // like an event: a checkpoint must cover it
        commitmentLeaves.set(leaf.eventId, index);
        if (commitmentLeaves.size > 16) commitmentLeaves.delete(commitmentLeaves.keys().next().value!);
        lastMapCommitAt = Date.now();
        // Its own time (not when it was read): a restart long after the last commitment sends a heartbeat at once.
        const at = Math.min(Math.floor(leaf.occurredAt / 1000), lastMapCommitAt);
        if (Number.isFinite(at) && (newestCommitmentAt === undefined || at > newestCommitmentAt)) newestCommitmentAt = at;
        // Another signer's (or an earlier run's) commitment: the map follows it, and says so if it is not the log's.
        if (follower && leaf.treeSize > follower.map.size && leaf.treeSize <= index) {
          const root = follower.advanceTo(leaf.treeSize);
          if (!root.equals(leaf.rootHash)) report(new Error(`the subject map committed at tree size ${leaf.treeSize} (leaf ${index}) is not this log's: sporbar-audit verify says where it diverges`));
        }
        return true;
      }
    }
    if (isCheckpoint(e.data)) {
      let size: number | undefined;
      try {
        size = (codec.decode(e.data).event as CheckpointSigned).treeSize;
      } catch {
        size = undefined; // not ours to judge here: verify reports undecodable checkpoints
      }
      if (size !== undefined && size > latestSize && size <= index) {
        latestSize = size;
        checkpointLeaves = checkpointLeaves.filter((i) => i >= latestSize);
      }
      checkpointLeaves.push(index);
    } else {
      lastRealIndex = index;
    }
    return false;
  };

  /** A heartbeat is due: nothing waits, and the newest commitment is older than `heartbeatMs`. */
  const heartbeatDue = (now: number): boolean => newestCommitmentAt !== undefined && now - newestCommitmentAt >= mapHeartbeatMs;

  /**
   * Commits the map's root at the current tree size when enough disclosures wait or enough time passed
   * (or `force`), or — with none waiting — when the heartbeat is due; returns its eventId.
   */
  const commitMapIfDue = async (force = false): Promise<{ eventId: string; treeSize: number } | undefined> => {
    const map = follower ?? mapOptions?.shared?.();
    if (!map) return undefined;
    const now = Date.now();
    if (map.pendingCount === 0) {
      if (!heartbeatDue(now)) return undefined;
    } else if (!force && map.pendingCount < mapEveryEvents && now - lastMapCommitAt < mapEveryMs && !heartbeatDue(now)) return undefined;
    // Synchronous: the map, the tree and the size cannot move in between. A shared map covers the
    // leaves its log service has read, which may be fewer than this checkpointer's.
    const treeSize = follower ? range.size : map.size;
    const rootHash = map.advanceTo(treeSize);
    const eventId = subjectMapCommitmentId(origin, treeSize);
    const data = codec.encode('SubjectMapCommitted', { eventId, occurredAt: now * 1000, treeSize, rootHash });
    await store.append(SUBJECT_MAP_STREAM, [{ eventId, type: 'SubjectMapCommitted', data, metadata: { [ORIGIN_METADATA_KEY]: origin } }]);
    lastMapCommitAt = Date.now();
    // Before the subscription reads it back: the next tick must not send a second heartbeat.
    if (newestCommitmentAt === undefined || now > newestCommitmentAt) newestCommitmentAt = now;
    options.onMapCommitment?.({ treeSize, rootHash, eventId });
    return { eventId, treeSize };
  };

  const sign = async (): Promise<number | undefined> => {
    await commitMapIfDue();
    if (uncovered() === 0) return undefined;
    // Synchronous snapshot: the tree cannot move between reading the size and the root.
    const treeSize = range.size;
    const rootHash = range.root();
    // A remote signer (HSM, KMS, a command) may take a while; the snapshot above is what it signs.
    const { event, text } = await signCheckpointEventAsync({ origin, treeSize, rootHash }, signer);
    await store.append(CHECKPOINT_STREAM, [{ eventId: event.eventId, type: 'CheckpointSigned', data: codec.encode('CheckpointSigned', event), metadata: { [ORIGIN_METADATA_KEY]: origin } }]);
    if (treeSize > latestSize) {
      latestSize = treeSize;
      checkpointLeaves = checkpointLeaves.filter((i) => i >= latestSize);
    }
    options.onCheckpoint?.({ treeSize, rootHash, eventId: event.eventId, text });
    return treeSize;
  };

  const checkpointNow = (): Promise<number | undefined> => {
    const next = chain.then(sign);
    chain = next.catch(() => undefined);
    return next;
  };

  const report = (err: unknown) => {
    if (options.onError) options.onError(err);
  };

  return {
    async start() {
      stopped = false;
      range = new CompactRange();
      position = 0n;
      latestSize = 0;
      checkpointLeaves = [];
      lastRealIndex = -1;
      follower = mapOptions?.keys ? new SubjectMapFollower(mapOptions.keys, codec) : undefined;
      newestCommitmentAt = undefined;
      // The first commitment after a start comes after `everyMs` (or `everyEvents`), like every later one.
      lastMapCommitAt = Date.now();
      for await (const e of store.readAll({ batchSize: 5000 })) observe(e);
      subscription = store.subscribe(
        async (e) => {
          const commitment = observe(e);
          if (commitment || uncovered() >= everyEvents) await checkpointNow();
        },
        { after: position },
      );
      subscription.done.catch(report);
      const tick = () => {
        if (stopped) return;
        checkpointNow()
          .then((signed) => options.onTick?.(signed), report)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, everyMs);
          });
      };
      timer = setTimeout(tick, everyMs);
      // A start after a crash may find enough uncovered events already.
      if (uncovered() >= everyEvents) await checkpointNow();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await subscription?.stop();
      await chain;
    },
    checkpointNow,
    async commitMapNow(timeoutMs = 30_000) {
      const next = chain.then(() => commitMapIfDue(true));
      chain = next.catch(() => undefined);
      const made = await next;
      if (!made) return undefined;
      const until = Date.now() + timeoutMs;
      // The subscription sees the commitment, and the checkpointer then signs a checkpoint covering it.
      for (;;) {
        const at = commitmentLeaves.get(made.eventId);
        if (at !== undefined && latestSize > at) return made.treeSize;
        if (stopped || Date.now() > until) throw new Error(`the subject map commitment at tree size ${made.treeSize} was not covered by a checkpoint within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    get treeSize() {
      return range.size;
    },
    get latestCheckpointSize() {
      return latestSize;
    },
  };
}
