import { createHmac, randomBytes } from 'node:crypto';
import { createTokenBuckets, type TakeResult } from '../core/token-bucket';

export interface RateLimiterOptions {
  burst: number;
  perMinute: number;
  now?: () => number;
}

export interface RateLimiter {
  /** Spends one token of the client at `ip`. */
  take(ip: string): TakeResult;
}

/**
 * Rate limiting per client without keeping its address: the bucket key is
 * HMAC-SHA256(IP, salt), the salt is random, lives only in memory and is replaced every
 * UTC day (and the buckets with it), so no key can be linked to an address or across days.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const buckets = createTokenBuckets({
    capacity: options.burst,
    refillPerSecond: options.perMinute / 60,
    now,
  });
  let salt = randomBytes(32);
  let saltDay = dayOf(now());

  return {
    take(ip) {
      const today = dayOf(now());
      if (today !== saltDay) {
        salt = randomBytes(32);
        saltDay = today;
        buckets.clear();
      }
      return buckets.take(createHmac('sha256', salt).update(ip).digest('base64url'));
    },
  };
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
