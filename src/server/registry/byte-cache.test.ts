import { describe, expect, it } from 'vitest';
import { createByteCache } from './byte-cache';

const of = (n: number) => new Uint8Array(n);

describe('the byte cache', () => {
  it('keeps files within its budget, dropping the least recently used first', () => {
    const cache = createByteCache(100);
    cache.set('a', of(40));
    cache.set('b', of(40));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', of(40));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.bytes).toBe(80);
  });

  it('never keeps a file larger than the whole budget, nor counts a file twice', () => {
    const cache = createByteCache(100);
    cache.set('a', of(60));
    cache.set('big', of(101));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.set('a', of(60));
    expect(cache.bytes).toBe(60);
    const none = createByteCache(0);
    none.set('a', of(1));
    expect(none.get('a')).toBeUndefined();
  });
});
