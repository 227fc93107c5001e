/**
 * Token buckets keyed by an opaque string (the server uses a salted hash of the client's
 * address). Each key may spend `capacity` tokens at once and earns them back at
 * `refillPerSecond`. Pure: time comes from the injected clock, so tests step it by hand.
 *
 * Memory stays bounded: a bucket that has refilled completely is the same as no bucket, so
 * such buckets are dropped when the map reaches `maxKeys`; if it is still too big (a
 * flood of distinct keys), the oldest buckets go, which only ever lets a client through.
 * Pruning goes down to a low-water mark below `maxKeys`, so the full scan runs once per
 * tenth of `maxKeys` new keys rather than once per new key while the map sits at the cap.
 */

export interface TokenBucketOptions {
  capacity: number;
  refillPerSecond: number;
  /** Milliseconds; `Date.now` in production. */
  now: () => number;
  maxKeys?: number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

export interface TokenBuckets {
  take(key: string, cost?: number): TakeResult;
  /** Forgets every bucket (e.g. when the key salt rotates and old keys can never recur). */
  clear(): void;
  readonly size: number;
}

const DEFAULT_MAX_KEYS = 100_000;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createTokenBuckets(options: TokenBucketOptions): TokenBuckets {
  const { capacity, refillPerSecond, now } = options;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  if (!(capacity > 0) || !(refillPerSecond > 0) || !(maxKeys > 0)) {
    throw new RangeError('capacity, refillPerSecond and maxKeys must be positive');
  }
  const lowWater = maxKeys - Math.ceil(maxKeys / 10);
  const buckets = new Map<string, Bucket>();

  const level = (bucket: Bucket, nowMs: number): number => {
    // A clock that steps back (NTP) must not drain a bucket: elapsed time is never negative.
    const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
    return Math.min(capacity, bucket.tokens + (elapsedMs / 1000) * refillPerSecond);
  };

  const prune = (nowMs: number): void => {
    for (const [key, bucket] of buckets) if (level(bucket, nowMs) >= capacity) buckets.delete(key);
    // Map iteration is insertion order; a key is re-inserted when it is used.
    for (const key of buckets.keys()) {
      if (buckets.size <= lowWater) break;
      buckets.delete(key);
    }
  };

  return {
    take(key, cost = 1) {
      const nowMs = now();
      const bucket = buckets.get(key);
      const tokens = bucket ? level(bucket, nowMs) : capacity;
      if (tokens < cost) {
        const retryAfterMs = Math.ceil(((cost - tokens) / refillPerSecond) * 1000);
        return { ok: false, retryAfterMs };
      }
      if (bucket) buckets.delete(key);
      else if (buckets.size >= maxKeys) prune(nowMs);
      buckets.set(key, { tokens: tokens - cost, updatedMs: nowMs });
      return { ok: true, remaining: Math.floor(tokens - cost) };
    },
    clear() {
      buckets.clear();
    },
    get size() {
      return buckets.size;
    },
  };
}
