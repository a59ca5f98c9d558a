import { describe, expect, it } from 'vitest';
import { createCache } from '../src/cache.ts';

describe('the bounded cache', () => {
  it('drops the entry used least recently once full, and forgets on delete, deleteWhere and clear', () => {
    const c = createCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a used: b is now the least recently used
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
    expect(c.size).toBe(2);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
    c.set('d', 4);
    c.deleteWhere((v) => v % 2 === 0);
    expect([c.get('c'), c.get('d')]).toEqual([3, undefined]);
    c.clear();
    expect(c.get('c')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('expires entries by their time to live on the clock it is given', () => {
    let now = 1_000; // lru-cache reads a start time of 0 as 'not timed'
    const c = createCache<string, string>(10, { ttlMs: 100, now: () => now });
    c.set('default', 'x');
    c.set('short', 'y', 10);
    c.set('forever', 'z', Number.POSITIVE_INFINITY);
    c.set('never', 'w', 0); // a time to live of 0 keeps nothing
    expect(c.get('never')).toBeUndefined();
    now = 1_009;
    expect(c.get('short')).toBe('y');
    now = 1_011;
    expect(c.get('short')).toBeUndefined();
    now = 1_099;
    expect(c.get('default')).toBe('x');
    now = 1_101;
    expect(c.get('default')).toBeUndefined();
    now = 1e9;
    expect(c.get('forever')).toBe('z');
  });

  it('keeps nothing with a capacity of 0 and refuses a capacity that is not a whole number', () => {
    const off = createCache<string, number>(0);
    off.set('a', 1);
    expect([off.get('a'), off.size]).toEqual([undefined, 0]);
    expect(() => createCache(-1)).toThrow(RangeError);
    expect(() => createCache(1.5)).toThrow(RangeError);
  });
});
