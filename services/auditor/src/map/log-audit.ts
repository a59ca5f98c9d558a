import type { Codec } from '@sporbar/schemas';
import type { SubjectMapKeys } from './keys.ts';
import { eventTypeMatcher, mapLeafReader, type MapLeaf } from './log-leaves.ts';
import { SubjectMap, type MapEntry } from './tree.ts';

/**
 * The subject map checked while the log is read once, leaf by leaf (`sporbar-audit verify` feeds it
 * from its pass): every DisclosureRecorded goes into a SubjectMap under its subject's index (the map
 * key's HMAC of the pseudonym), every SubjectMapCommitted is compared with the map recomputed at its
 * tree size. The map is the only per-subject state; besides it, at most FLUSH_EVERY disclosures wait
 * to be applied, plus one root per planned size.
 *
 * A commitment's tree size S is at most its own leaf index L (it covers leaves before it), usually
 * S = L, or a little less when events arrived between the checkpointer's computation and its append.
 * Sizes known before the pass (`plannedSizes`, from the commitment stream) get their root recorded
 * when the pass reaches them; a commitment of another size is checked if the map has not passed it
 * yet, else its size is listed in `replan` (the caller reads again with it planned, as verify does
 * for a checkpoint whose size no one listed).
 *
 * Without the key nothing is recomputed, but commitments are still read: their number, their order
 * and their place are checked all the same.
 *
 * Every problem names log positions only (leaf indexes, tree sizes, the commitment's own position and
 * eventId): never a subject, a pseudonym or an index.
 */

/** Where a leaf is, for messages: the store's position and the event's id, when known. */
export interface LeafAt {
  readonly position?: bigint;
  readonly eventId?: string;
}

export type MapLogProblem =
  | {
      /** The committed root is not the map recomputed from the log at that size. */
      readonly kind: 'root';
      readonly logIndex: number;
      readonly at: LeafAt;
      readonly treeSize: number;
      /** The size of the last commitment that agreed (0 if none): the divergence is among log indexes [lastGoodSize, treeSize). */
      readonly lastGoodSize: number;
      /** Commitments right after this one that disagree as well (until one agrees again). */
      later: number;
    }
  | { readonly kind: 'beyond'; readonly logIndex: number; readonly at: LeafAt; readonly treeSize: number }
  | { readonly kind: 'order'; readonly logIndex: number; readonly at: LeafAt; readonly treeSize: number; readonly previousSize: number; readonly previousLogIndex: number }
  | { readonly kind: 'undecodable'; readonly logIndex: number; readonly at: LeafAt };

export interface MapLogAuditResult {
  /** Whether roots were recomputed (a map key was given). */
  readonly checked: boolean;
  /** SubjectMapCommitted leaves in the log, decodable or not. */
  readonly commitments: number;
  /** Commitments whose root was compared, and how many of them agree. */
  readonly compared: number;
  readonly agreed: number;
  /** The tree size of the newest commitment compared (undefined: none). */
  readonly newestTreeSize?: number;
  /** Commitments that could not be compared because the map had passed their size (empty after a re-read with them planned). */
  readonly replan: readonly number[];
  /** DisclosureRecorded leaves the map cannot read (do not decode, or no pseudonym): they are in no subject's chain. */
  readonly unreadableDisclosures: number;
  readonly firstUnreadableDisclosure?: { readonly logIndex: number; readonly at: LeafAt };
  /** The first problem of each kind 'beyond', 'order', 'undecodable' (with `more` counting the others of that kind), and every run of disagreeing roots. */
  readonly problems: readonly MapLogProblem[];
  readonly more: Readonly<Record<'beyond' | 'order' | 'undecodable', number>>;
}

export interface MapLogAuditOptions {
  readonly codec: Codec;
  /** The map key's index and salt; without it commitments are counted and placed, not recomputed. */
  readonly keys?: SubjectMapKeys;
  /** Tree sizes commitments are expected at (their root is recorded when the pass reaches them). */
  readonly plannedSizes?: Iterable<number>;
  /** Disclosures kept before they are applied to the map (default FLUSH_EVERY); any value gives the same roots. */
  readonly flushEvery?: number;
}

/** Disclosures kept before they are applied to the map, at most (applying in batches is cheaper than one by one). */
const FLUSH_EVERY = 4096;
/** Runs of disagreeing roots reported one by one, at most (a log that disagrees more often is counted). */
const MAX_ROOT_PROBLEMS = 20;

const OTHER: MapLeaf = { kind: 'other' };

const copyAt = (at: LeafAt): LeafAt => ({ ...(at.position !== undefined ? { position: at.position } : {}), ...(at.eventId !== undefined ? { eventId: at.eventId } : {}) });

export class SubjectMapLogAudit {
  private readonly read: (data: Uint8Array) => MapLeaf;
  private readonly keys: SubjectMapKeys | undefined;
  private readonly map: SubjectMap | undefined;
  private readonly planned: number[];
  private plannedAt = 0;
  private readonly roots = new Map<number, Buffer>();
  private pending: MapEntry[] = [];
  private readonly flushEvery: number;
  private next = 0;
  private commitments = 0;
  private compared = 0;
  private agreed = 0;
  private newest: number | undefined;
  private lastGood = 0;
  private previous: { size: number; logIndex: number } | undefined;
  private run: Extract<MapLogProblem, { kind: 'root' }> | undefined;
  private rootProblems = 0;
  private readonly problems: MapLogProblem[] = [];
  private readonly more = { beyond: 0, order: 0, undecodable: 0 };
  private readonly replan: number[] = [];
  private unreadable = 0;
  private firstUnreadable: { logIndex: number; at: LeafAt } | undefined;

  constructor(options: MapLogAuditOptions) {
    this.keys = options.keys;
    this.flushEvery = Math.max(1, options.flushEvery ?? FLUSH_EVERY);
    if (options.keys) {
      this.read = mapLeafReader(options.codec);
      this.map = new SubjectMap({ saltOf: options.keys.saltOf });
    } else {
      // Without the key only commitments matter: disclosures are not even decoded.
      const isCommitment = eventTypeMatcher(options.codec, 'SubjectMapCommitted');
      const reader = mapLeafReader(options.codec);
      this.read = (data) => (isCommitment(data) ? reader(data) : OTHER);
      this.map = undefined;
    }
    this.planned = [...new Set(options.plannedSizes ?? [])].filter((s) => Number.isSafeInteger(s) && s >= 0).sort((a, b) => a - b);
  }

  /**
   * The next leaf of the log, in order from leaf index 0. `leafHash` is its RFC 6962 leaf hash (kept:
   * pass a buffer of its own); `at` says where it is (copied only when a problem names it: the store's
   * row can be passed as it is).
   */
  leaf(logIndex: number, data: Uint8Array, leafHash: Uint8Array, at: LeafAt = {}): void {
    if (logIndex !== this.next) throw new RangeError(`leaves must come in order: expected leaf index ${this.next}, got ${logIndex}`);
    this.next++;
    if (this.map) {
      // A planned size reached: the root over [0, logIndex), before this leaf counts.
      while (this.plannedAt < this.planned.length && this.planned[this.plannedAt]! < logIndex) this.plannedAt++;
      if (this.planned[this.plannedAt] === logIndex) {
        this.flush(logIndex);
        this.roots.set(logIndex, this.map.root());
        this.plannedAt++;
      }
    }
    const l = this.read(data);
    if (l.kind === 'other') return;
    if (l.kind === 'disclosure') {
      if (!this.map) return;
      this.pending.push({ index: this.keys!.indexOf(l.pseudonym), logIndex, leafHash });
      if (this.pending.length >= this.flushEvery) this.flush(logIndex + 1);
      return;
    }
    if (l.kind === 'undecodable') {
      if (l.eventType === 'SubjectMapCommitted') {
        this.commitments++;
        this.problem({ kind: 'undecodable', logIndex, at: copyAt(at) });
      } else if (this.unreadable++ === 0) {
        this.firstUnreadable = { logIndex, at: copyAt(at) };
      }
      return;
    }
    this.commitment(logIndex, l.treeSize, l.rootHash, at);
  }

  result(): MapLogAuditResult {
    return {
      checked: this.map !== undefined,
      commitments: this.commitments,
      compared: this.compared,
      agreed: this.agreed,
      ...(this.newest !== undefined ? { newestTreeSize: this.newest } : {}),
      replan: [...this.replan],
      unreadableDisclosures: this.unreadable,
      ...(this.firstUnreadable ? { firstUnreadableDisclosure: this.firstUnreadable } : {}),
      problems: this.problems.map((p) => ({ ...p })),
      more: { ...this.more },
    };
  }

  private commitment(logIndex: number, treeSize: number, rootHash: Buffer, at: LeafAt): void {
    this.commitments++;
    if (treeSize > logIndex) {
      this.problem({ kind: 'beyond', logIndex, at: copyAt(at), treeSize });
      return;
    }
    const previous = this.previous;
    if (previous && treeSize <= previous.size) {
      this.problem({ kind: 'order', logIndex, at: copyAt(at), treeSize, previousSize: previous.size, previousLogIndex: previous.logIndex });
      return;
    }
    this.previous = { size: treeSize, logIndex };
    const map = this.map;
    if (!map) return;
    let root = this.roots.get(treeSize);
    this.roots.delete(treeSize);
    if (!root) {
      if (treeSize < map.size) {
        this.replan.push(treeSize);
        return;
      }
      this.flush(treeSize);
      root = map.root();
    }
    this.compared++;
    this.newest = treeSize;
    if (root.equals(rootHash)) {
      this.agreed++;
      this.lastGood = treeSize;
      this.run = undefined;
      return;
    }
    if (this.run) {
      this.run.later++;
      return;
    }
    if (this.rootProblems++ >= MAX_ROOT_PROBLEMS) return; // counted in compared − agreed
    this.run = { kind: 'root', logIndex, at: copyAt(at), treeSize, lastGoodSize: this.lastGood, later: 0 };
    this.problems.push(this.run);
  }

  private problem(p: Exclude<MapLogProblem, { kind: 'root' }>): void {
    if (this.problems.some((q) => q.kind === p.kind)) this.more[p.kind]++;
    else this.problems.push(p);
  }

  /** Applies the waiting disclosures of [map.size, upTo) and moves the map to upTo. */
  private flush(upTo: number): void {
    const map = this.map!;
    if (upTo <= map.size && this.pending.length === 0) return;
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.logIndex < upTo) k++;
    map.apply(k === this.pending.length ? this.pending : this.pending.slice(0, k), upTo);
    this.pending = k === this.pending.length ? [] : this.pending.slice(k);
  }
}
