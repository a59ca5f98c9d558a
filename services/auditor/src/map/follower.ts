import type { Codec } from '@sporbar/schemas';
import type { SubjectMapKeys } from './keys.ts';
import { mapLeafReader, type MapLeaf } from './log-leaves.ts';
import { SubjectMap, type MapEntry } from './tree.ts';

/** Pseudonyms whose index a follower remembers (≈ 150 B each). */
const INDEX_CACHE = 65_536;

/** A map commitment as the follower saw it in the log. */
export interface SeenCommitment {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly eventId: string;
  /** The stored bytes (what the citizen's bundle carries to prove the commitment's leaf). */
  readonly data: Uint8Array;
}

/**
 * The subject map kept next to a log that is read leaf by leaf (the checkpointer, the log service):
 * disclosures wait in `pending` (32 + 8 + 32 bytes each) until the map is advanced to a size, so the
 * map is always exactly at some tree size — the one of its last commitment — and can be proven there.
 * Leaves must be fed in log order, each once.
 */
export class SubjectMapFollower {
  readonly map: SubjectMap;
  readonly #keys: SubjectMapKeys;
  readonly #read: (data: Uint8Array) => MapLeaf;
  #pending: MapEntry[] = [];
  #next = 0;
  /** pseudonym → index for the subjects seen lately (a subject's disclosures come in bursts): the HMAC once per burst. */
  readonly #indexes = new Map<string, Buffer>();

  constructor(keys: SubjectMapKeys, codec: Codec) {
    this.#keys = keys;
    this.#read = mapLeafReader(codec);
    this.map = new SubjectMap({ saltOf: keys.saltOf });
  }

  /** Leaves fed so far. */
  get size(): number {
    return this.#next;
  }

  /** Disclosures fed but not yet in the map. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Feeds leaf `leafIndex` (the next one) with its bytes and RFC 6962 leaf hash; returns what it is to the map. */
  observe(leafIndex: number, data: Uint8Array, leafHash: Uint8Array): MapLeaf {
    if (leafIndex !== this.#next) throw new RangeError(`leaves must be fed in order: expected ${this.#next}, got ${leafIndex}`);
    this.#next++;
    const leaf = this.#read(data);
    if (leaf.kind === 'disclosure') this.#pending.push({ index: this.#indexOf(leaf.pseudonym), logIndex: leafIndex, leafHash: Buffer.from(leafHash) });
    return leaf;
  }

  #indexOf(pseudonym: string): Buffer {
    let index = this.#indexes.get(pseudonym);
    if (index === undefined) {
      index = this.#keys.indexOf(pseudonym);
      if (this.#indexes.size >= INDEX_CACHE) this.#indexes.delete(this.#indexes.keys().next().value!);
      this.#indexes.set(pseudonym, index);
    }
    return index;
  }

  /** Puts every pending disclosure below `size` into the map (size between the map's and the leaves fed) and returns the root there. */
  advanceTo(size: number): Buffer {
    if (!Number.isSafeInteger(size) || size < this.map.size || size > this.#next) throw new RangeError(`cannot advance the map from ${this.map.size} to ${size} (${this.#next} leaves fed)`);
    let cut = 0;
    while (cut < this.#pending.length && this.#pending[cut]!.logIndex < size) cut++;
    this.map.apply(this.#pending.slice(0, cut), size);
    this.#pending = this.#pending.slice(cut);
    return this.map.root();
  }
}
