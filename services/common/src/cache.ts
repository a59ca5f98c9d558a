import { LRUCache } from 'lru-cache';

/**
 * The one bounded-cache idiom of Sporbar: least recently used entries go first, O(1) per operation
 * (`lru-cache`; a Map evicting its first entry one at a time cost ~6 µs per insert once full, as V8
 * walks the holes deleted entries leave), with an optional time to live per entry. A capacity of 0
 * gives a cache that keeps nothing, so a caller can switch caching off without a second code path.
 */
export interface BoundedCache<K, V> {
  get(key: K): V | undefined;
  /** `ttlMs`: this entry expires that many ms after it was set (default: the cache's; Infinity: never; ≤ 0: not kept). */
  set(key: K, value: V, ttlMs?: number): void;
  delete(key: K): void;
  /** Drops every entry whose value matches. */
  deleteWhere(matches: (value: V) => boolean): void;
  clear(): void;
  readonly size: number;
}

export interface BoundedCacheOptions {
  /** Entries expire this many milliseconds after they were set (default: never). */
  readonly ttlMs?: number;
  /** The clock that times the time to live, in ms, always > 0 (default: `performance.now`); tests inject their own. */
  readonly now?: () => number;
}

export function createCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  capacity: number,
  options: BoundedCacheOptions = {},
): BoundedCache<K, V> {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`cache capacity must be a non-negative integer, got ${capacity}`);
  if (capacity === 0) {
    return { get: () => undefined, set: () => {}, delete: () => {}, deleteWhere: () => {}, clear: () => {}, size: 0 };
  }
  const lru = new LRUCache<K, V>({ max: capacity, ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}) });
  // lru-cache keeps whole milliseconds, and a ttl of 0 means no time limit.
  const wholeMs = (ttlMs: number): number => (Number.isFinite(ttlMs) ? Math.max(1, Math.ceil(ttlMs)) : 0);
  const defaultTtl = options.ttlMs === undefined ? 0 : wholeMs(options.ttlMs);
  return {
    get: (key) => lru.get(key),
    set(key, value, ttlMs) {
      if (ttlMs !== undefined && ttlMs <= 0) return;
      lru.set(key, value, { ttl: ttlMs === undefined ? defaultTtl : wholeMs(ttlMs) });
    },
    delete(key) {
      lru.delete(key);
    },
    deleteWhere(matches) {
      const doomed: K[] = [];
      for (const [k, v] of lru.entries()) if (matches(v)) doomed.push(k);
      for (const k of doomed) lru.delete(k);
    },
    clear: () => lru.clear(),
    get size() {
      return lru.size;
    },
  };
}
