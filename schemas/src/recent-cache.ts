/**
 * A bounded cache of the entries used last, in two generations: lookups fill the newer one; when it
 * holds `capacity` entries the older generation is dropped whole and the newer becomes the older.
 * O(1) per operation (unlike evicting a Map's first entry one at a time), at most 2 × capacity
 * entries, and an entry used in either generation survives the next turnover.
 */
export interface RecentCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
}

export function createRecentCache<K, V>(capacity: number): RecentCache<K, V> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  let recent = new Map<K, V>();
  let older = new Map<K, V>();
  const set = (key: K, value: V): void => {
    if (recent.size >= capacity) {
      older = recent;
      recent = new Map();
    }
    recent.set(key, value);
  };
  return {
    get(key) {
      const hit = recent.get(key);
      if (hit !== undefined) return hit;
      const old = older.get(key);
      if (old !== undefined) set(key, old); // used again: keep it through the next turnover
      return old;
    },
    set,
    delete(key) {
      recent.delete(key);
      older.delete(key);
    },
    clear() {
      recent = new Map();
      older = new Map();
    },
  };
}
