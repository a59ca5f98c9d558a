import type { KeyObject } from 'node:crypto';
import type { EventStore, RecordedEvent, Subscription } from '@sporbar/event-store';
import { SporbarError } from '@sporbar/common/errors';
import type { CheckpointSigned, Codec } from '@sporbar/schemas';
import { ORIGIN_METADATA_KEY, checkpointMatcher, checkpointTextOf } from './checkpoint/checkpoint-event.ts';
import { loadVerifyingKey, noteKeyId, verifierKeyString, verifyTreeHead, type VerifyingKey } from './checkpoint/signed-tree-head.ts';
import { MerkleTree } from './merkle/merkle-tree.ts';
import { TILE_WIDTH, tileHashRange, tileTreeSizes, treeHasTile, type TileRef } from './merkle/tiles.ts';
import { SubjectMapFollower, type SeenCommitment } from './map/follower.ts';
import type { SubjectMapKeys } from './map/keys.ts';
import { encodeMapProof } from './map/proof.ts';

export interface LogServiceOptions {
  readonly store: EventStore;
  readonly codec: Codec;
  /** The checkpoint key: SPKI PEM, raw base64url, a KeyObject or a VerifyingKey. */
  readonly publicKey: string | KeyObject | VerifyingKey;
  /** `sporbar.v1/<logId>`. */
  readonly origin: string;
  /**
   * How an eventId finds its leaf. 'store': ask the store (`positionsOf`, one query per request) and
   * map position → leaf, keeping nothing per event but the tree's hashes; 'memory': a Map eventId →
   * leaf index (~85 B more per event). Default: 'store' when the store has `positionsOf`, else 'memory'.
   */
  readonly index?: 'store' | 'memory';
  /**
   * Keep the subject map (docs/subject-map.md) and serve its proofs: the map follows the log's
   * `SubjectMapCommitted` leaves, each checked against this service's own recomputation once a verified
   * checkpoint covers it; proofs are served at the newest commitment that checked out.
   */
  readonly subjectMap?: { readonly keys: SubjectMapKeys };
  readonly onError?: (error: unknown) => void;
}

/** The citizen's map proofs at the newest verified commitment: what `/v1/log/subject-map/proofs` answers. */
export interface SubjectMapProofsView {
  readonly commitment: {
    readonly eventId: string;
    /** The SubjectMapCommitted leaf's index in the log. */
    readonly leafIndex: number;
    /** The map covers log leaves 0 .. treeSize-1. */
    readonly treeSize: number;
    /** Standard base64 of the map root. */
    readonly rootHash: string;
    /** Standard base64 of the stored SubjectMapCommitted bytes (its leaf hash is SHA-256(0x00 ‖ bytes)). */
    readonly event: string;
  };
  /** One map proof (encodeMapProof, standard base64) per index asked, in order. */
  readonly proofs: ReadonlyArray<{ readonly index: string; readonly proof: string }>;
}

/** At most this many map indexes in one request (a citizen's pseudonyms across key rotations). */
export const MAX_MAP_INDEXES = 16;
const INDEX_HEX = /^[0-9a-f]{64}$/;

export interface CheckpointView {
  readonly treeSize: number;
  /** Standard base64 of the 32-byte root. */
  readonly rootHash: string;
  readonly keyId: string;
  readonly algorithm: 'ED25519';
  /** Standard base64 of the 64-byte Ed25519 signature. */
  readonly signature: string;
  readonly occurredAt: string;
  readonly eventId: string;
  readonly position: string;
  readonly leafIndex: number;
  /** The signed note (`verifyTreeHead` input). */
  readonly checkpoint: string;
}

export interface InclusionProofView {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: string[];
  /** The signed checkpoint of exactly this tree size, when one exists. */
  readonly checkpoint?: string;
}

export interface ConsistencyProofView {
  readonly from: number;
  readonly to: number;
  readonly fromRoot: string;
  readonly toRoot: string;
  readonly proof: string[];
}

export interface LogService {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `keyId` is the C2SP note key hash (what the checkpoints' signature lines carry), `verifierKey` the C2SP verifier key string. */
  publicKey(): { publicKeyPem: string; keyId: string; verifierKey: string; origin: string; algorithm: 'ED25519' };
  latestCheckpoint(): CheckpointView | undefined;
  /** The signed checkpoint of exactly this tree size that verifies and matches this tree, if the log holds one. */
  checkpointAt(treeSize: number): CheckpointView | undefined;
  inclusionProof(eventId: string, treeSize?: number): Promise<InclusionProofView>;
  /** Proofs of several events (a report's page) against `treeSize` or the latest checkpoint; one store look-up for all. */
  inclusionProofs(eventIds: readonly string[], treeSize?: number): Promise<{ checkpoint: CheckpointView | null; treeSize: number | null; proofs: InclusionProofView[]; pending: string[] }>;
  consistencyProof(from: number, to: number): ConsistencyProofView;
  /**
   * The C2SP tile of hashes (level, index, width: 256 for a full tile) as served to monitors, or
   * undefined when no signed checkpoint requires it: a full tile inside the latest checkpoint's tree,
   * or a partial tile of exactly the width some verified checkpoint's tree size gives it (C2SP: a log
   * serves the partial tiles of every size it signed). One copy of stored hashes, no hashing.
   */
  tile(tile: TileRef & { level: number }): Buffer | undefined;
  /** `width` stored hashes of the level-`level` tile `index` (tree level 8·level) of the tree as it is now; RangeError beyond it. */
  tileHashes(level: number, index: number, width: number): Buffer;
  /**
   * Map proofs for map indexes (64 hex chars each) at the newest commitment that a verified checkpoint
   * covers and that matches this service's recomputation. SPB_ERR_NOT_FOUND without a map or before
   * the first such commitment.
   */
  subjectMapProofs(indexes: readonly string[]): SubjectMapProofsView;
  /** The map this service keeps (undefined without one, or before start): a checkpointer in the same process may commit it (`subjectMap.shared`). */
  readonly subjectMapFollower: SubjectMapFollower | undefined;
  /** Leaves seen so far. */
  readonly treeSize: number;
  /** Global position of the last event seen (0n before any): caught up when it reaches the store's head. */
  readonly position: bigint;
  /** Leaves that are not checkpoints and are not yet covered by the latest served checkpoint. */
  readonly uncovered: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Index of the first element ≥ value in an ascending array (its length when none is). */
function firstAtLeast(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where the leaf numbering restarts relative to the store's positions: leaf = leafIndex + (position − from). One entry per gap in the positions. */
interface Run {
  readonly from: bigint;
  readonly leafIndex: number;
}

/**
 * Serves the log's proofs to the API. On start it builds a `MerkleTree` from the whole log (64 B of
 * hashes per event), then follows the live subscription. An event's leaf comes from the store
 * (`positionsOf`: leaf = position − 1 in a gap-free log; the runs below keep any gap exact) or, for a
 * store without that look-up, from a Map eventId → leaf index kept here.
 *
 * Only checkpoints that verify under the configured key *and* whose root equals this service's own
 * tree at that size are served: a forged or stale CheckpointSigned in the store is never handed out.
 */
export function createLogService(options: LogServiceOptions): LogService {
  const { store, codec, origin } = options;
  const key = loadVerifyingKey(options.publicKey);
  const isCheckpoint = checkpointMatcher(codec);
  let tree = new MerkleTree();
  const useStore = (options.index ?? (store.positionsOf ? 'store' : 'memory')) === 'store';
  if (useStore && !store.positionsOf) throw new SporbarError('SPB_ERR_CONFIG', `the ${store.adapter} event store cannot look events up by id: use index 'memory'`);
  let indexOf = new Map<string, number>();
  let runs: Run[] = [];
  let checkpoints = new Map<number, CheckpointView>();
  /** The sizes of `checkpoints`, ascending: which partial tiles exist. */
  let checkpointSizes: number[] = [];
  let latest: CheckpointView | undefined;
  let position = 0n;
  let subscription: Subscription | undefined;
  /** Index of the last leaf that is not a checkpoint, and the checkpoint leaves at or after the latest checkpoint's size. */
  let lastRealIndex = -1;
  let checkpointLeaves: number[] = [];
  let follower: SubjectMapFollower | undefined;
  /** Commitments seen but not yet covered by a verified checkpoint, in log order; the newest that checked out. */
  let waiting: SeenCommitment[] = [];
  let mapAt: SeenCommitment | undefined;

  /** Moves the map to each commitment a verified checkpoint of `coveredSize` now covers, checking each root. */
  const advanceMap = (coveredSize: number): void => {
    if (!follower) return;
    while (waiting.length && waiting[0]!.leafIndex < coveredSize) {
      const c = waiting.shift()!;
      if (c.treeSize > c.leafIndex) {
        options.onError?.(new Error(`the subject map commitment at leaf ${c.leafIndex} commits tree size ${c.treeSize}, beyond itself: not served`));
        continue;
      }
      // The map has moved past it (a checkpointer sharing this map committed again before this one was
      // covered, or commitments out of order): not checked here, never served; sporbar-audit verify checks every one.
      if (c.treeSize < follower.map.size) continue;
      // Equal: a checkpointer sharing this map advanced it to exactly this size when it committed.
      const root = c.treeSize === follower.map.size ? follower.map.root() : follower.advanceTo(c.treeSize);
      if (root.equals(c.rootHash)) mapAt = c;
      else {
        mapAt = undefined;
        options.onError?.(new Error(`the subject map committed at tree size ${c.treeSize} (leaf ${c.leafIndex}) is not this log's: no map proofs are served until a commitment that is`));
      }
    }
  };

  const observe = (e: RecordedEvent): void => {
    const leafIndex = tree.size;
    tree.appendLeaf(e.data);
    if (!useStore) indexOf.set(e.eventId.toLowerCase(), leafIndex);
    const run = runs.at(-1);
    if (!run || run.leafIndex + Number(e.globalPosition - run.from) !== leafIndex) runs.push({ from: e.globalPosition, leafIndex });
    position = e.globalPosition;
    if (follower) {
      const leaf = follower.observe(leafIndex, e.data, tree.leafHash(leafIndex));
      if (leaf.kind === 'commitment') waiting.push({ leafIndex, treeSize: leaf.treeSize, rootHash: leaf.rootHash, eventId: leaf.eventId, data: e.data });
    }
    if (!isCheckpoint(e.data)) {
      lastRealIndex = leafIndex;
      return;
    }
    checkpointLeaves.push(leafIndex);
    let event: CheckpointSigned;
    try {
      event = codec.decode(e.data).event as CheckpointSigned;
    } catch {
      return;
    }
    const eventOrigin = e.metadata[ORIGIN_METADATA_KEY] ?? origin;
    if (eventOrigin !== origin || event.treeSize > leafIndex || event.treeSize < 1) return;
    const text = checkpointTextOf(event, origin);
    if (!text || !verifyTreeHead(text, key, { origin }).ok) return;
    if (!tree.root(event.treeSize).equals(event.rootHash)) return;
    const view: CheckpointView = {
      treeSize: event.treeSize,
      rootHash: b64(event.rootHash),
      keyId: event.keyId,
      algorithm: 'ED25519',
      signature: b64(event.signature),
      occurredAt: new Date(Math.floor(event.occurredAt / 1000)).toISOString(),
      eventId: e.eventId,
      position: e.globalPosition.toString(),
      leafIndex,
      checkpoint: text,
    };
    if (!checkpoints.has(event.treeSize)) {
      const at = firstAtLeast(checkpointSizes, event.treeSize);
      checkpointSizes.splice(at, 0, event.treeSize);
    }
    checkpoints.set(event.treeSize, view);
    advanceMap(view.treeSize);
    if (!latest || view.treeSize > latest.treeSize) {
      latest = view;
      checkpointLeaves = checkpointLeaves.filter((i) => i >= view.treeSize);
    }
  };

  /** Leaf indexes of events this service has seen (others are absent): from the store's positions, or the Map. */
  const leavesOf = async (ids: readonly string[]): Promise<Map<string, number>> => {
    if (!useStore) return new Map(ids.flatMap((id) => (indexOf.has(id) ? [[id, indexOf.get(id)!] as const] : [])));
    const seen = position;
    const found = await store.positionsOf!(ids);
    const out = new Map<string, number>();
    for (const [id, p] of found) {
      if (p > seen) continue; // stored, but not yet in this tree
      let lo = 0;
      let hi = runs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (runs[mid]!.from <= p) lo = mid;
        else hi = mid - 1;
      }
      const run = runs[lo];
      if (run && run.from <= p) out.set(id, run.leafIndex + Number(p - run.from));
    }
    return out;
  };

  const proofAt = (id: string, leafIndex: number | undefined, treeSize: number | undefined): InclusionProofView => {
    if (leafIndex === undefined) throw new SporbarError('SPB_ERR_NOT_FOUND', `no event ${id} in the log`);
    const size = treeSize ?? latest?.treeSize;
    if (size === undefined) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no signed checkpoint yet');
    if (!Number.isSafeInteger(size) || size > tree.size) throw new SporbarError('SPB_ERR_BAD_REQUEST', `tree size ${size} is beyond the log (${tree.size} leaves)`);
    if (leafIndex >= size) {
      throw new SporbarError(treeSize === undefined ? 'SPB_ERR_NOT_FOUND' : 'SPB_ERR_BAD_REQUEST', `event ${id} is leaf ${leafIndex}, not inside a tree of size ${size}${treeSize === undefined ? ' (not yet covered by a checkpoint)' : ''}`);
    }
    const checkpoint = checkpoints.get(size)?.checkpoint;
    return {
      eventId: id,
      leafIndex,
      treeSize: size,
      leafHash: b64(tree.leafHash(leafIndex)),
      rootHash: b64(tree.root(size)),
      proof: tree.inclusionProof(leafIndex, size).map(b64),
      ...(checkpoint ? { checkpoint } : {}),
    };
  };

  return {
    async start() {
      tree = new MerkleTree();
      indexOf = new Map();
      runs = [];
      checkpoints = new Map();
      checkpointSizes = [];
      latest = undefined;
      position = 0n;
      lastRealIndex = -1;
      checkpointLeaves = [];
      follower = options.subjectMap ? new SubjectMapFollower(options.subjectMap.keys, codec) : undefined;
      waiting = [];
      mapAt = undefined;
      for await (const e of store.readAll({ batchSize: 5000 })) observe(e);
      subscription = store.subscribe(observe, { after: position });
      subscription.done.catch((err) => options.onError?.(err));
    },
    async stop() {
      await subscription?.stop();
    },
    publicKey() {
      return { publicKeyPem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(), keyId: noteKeyId(origin, key.publicKeyRaw), verifierKey: verifierKeyString(origin, key.publicKeyRaw), origin, algorithm: 'ED25519' };
    },
    latestCheckpoint: () => latest,
    checkpointAt: (treeSize) => checkpoints.get(treeSize),
    async inclusionProof(eventId, treeSize) {
      const id = eventId.toLowerCase();
      if (!UUID.test(id)) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'eventId must be a uuid');
      return proofAt(id, (await leavesOf([id])).get(id), treeSize);
    },
    async inclusionProofs(eventIds, treeSize) {
      const ids = eventIds.map((id) => id.toLowerCase());
      const bad = ids.find((id) => !UUID.test(id));
      if (bad !== undefined) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'every eventId must be a uuid');
      const size = treeSize ?? latest?.treeSize ?? null;
      if (size !== null && size > tree.size) throw new SporbarError('SPB_ERR_BAD_REQUEST', `tree size ${size} is beyond the log (${tree.size} leaves)`);
      const leaves = await leavesOf(ids);
      const proofs: InclusionProofView[] = [];
      const pending: string[] = [];
      for (const id of ids) {
        const leafIndex = leaves.get(id);
        if (size === null || leafIndex === undefined || leafIndex >= size) pending.push(id);
        else proofs.push(proofAt(id, leafIndex, size));
      }
      return { checkpoint: latest ?? null, treeSize: size, proofs, pending };
    },
    consistencyProof(from, to) {
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) throw new SporbarError('SPB_ERR_BAD_REQUEST', `need 0 ≤ from ≤ to, got from=${from} to=${to}`);
      if (to > tree.size) throw new SporbarError('SPB_ERR_BAD_REQUEST', `tree size ${to} is beyond the log (${tree.size} leaves)`);
      return { from, to, fromRoot: b64(tree.root(from)), toRoot: b64(tree.root(to)), proof: tree.consistencyProof(from, to).map(b64) };
    },
    tile(t) {
      const size = latest?.treeSize;
      if (size === undefined || !Number.isInteger(t.level) || t.level < 0 || !Number.isSafeInteger(t.index) || t.index < 0) return undefined;
      if (t.width === TILE_WIDTH) {
        if (!treeHasTile(t, size)) return undefined;
      } else {
        const { from, to } = tileTreeSizes(t);
        const s = checkpointSizes[firstAtLeast(checkpointSizes, from)];
        if (s === undefined || s >= to || s > size) return undefined;
      }
      const r = tileHashRange(t);
      return tree.hashes(r.treeLevel, r.from, r.count);
    },
    tileHashes(level, index, width) {
      const r = tileHashRange({ level, index, width });
      return tree.hashes(r.treeLevel, r.from, r.count);
    },
    subjectMapProofs(indexes) {
      if (!follower) throw new SporbarError('SPB_ERR_NOT_FOUND', 'this log keeps no subject map');
      if (indexes.length === 0 || indexes.length > MAX_MAP_INDEXES) throw new SporbarError('SPB_ERR_BAD_REQUEST', `ask for 1 to ${MAX_MAP_INDEXES} map indexes`);
      const bad = indexes.find((i) => !INDEX_HEX.test(i));
      if (bad !== undefined) throw new SporbarError('SPB_ERR_BAD_REQUEST', 'every map index must be 64 lowercase hex characters');
      const at = mapAt;
      if (!at) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no subject map commitment is covered by a signed checkpoint yet');
      // A checkpointer sharing the map has advanced it for a commitment not yet covered: proofs resume once it is.
      if (follower.map.size !== at.treeSize) throw new SporbarError('SPB_ERR_NOT_FOUND', 'a new subject map commitment is on its way into a signed checkpoint; try again in a moment');
      return {
        commitment: { eventId: at.eventId, leafIndex: at.leafIndex, treeSize: at.treeSize, rootHash: b64(at.rootHash), event: b64(at.data) },
        proofs: indexes.map((index) => ({ index, proof: b64(encodeMapProof(follower!.map.prove(Buffer.from(index, 'hex')))) })),
      };
    },
    get subjectMapFollower() {
      return follower;
    },
    get treeSize() {
      return tree.size;
    },
    get position() {
      return position;
    },
    get uncovered() {
      const covered = latest?.treeSize ?? 0;
      return lastRealIndex < covered ? 0 : tree.size - covered - checkpointLeaves.length;
    },
  };
}
