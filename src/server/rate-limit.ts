import { createHmac, randomBytes } from 'node:crypto';
import type { RateLimitOptions, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { rateLimitSubject } from './client-address';
import { HttpError } from './http-errors';

/**
 * Per-client rate limiting through @fastify/rate-limit, without keeping the client's
 * address: the key is HMAC-SHA256(client, salt), the client being the IPv4 address or the
 * IPv6 /64 (see `rateLimitSubject`), and the salt is random, lives only in memory and is
 * replaced every UTC day, so no key can be linked to an address or to the same client's
 * key of another day. Yesterday's keys are simply never asked for again;
 * the plugin's LRU store drops them.
 */
export function rateLimitPluginOptions(now: () => number = Date.now): RateLimitPluginOptions {
  const keyOf = createDailyKey(now);
  return {
    // Only the routes that ask for it (their `config.rateLimit`) are limited.
    global: false,
    keyGenerator: (request: FastifyRequest) => keyOf(request.ip),
    errorResponseBuilder: () => new HttpError(429, 'RATE_LIMITED'),
  };
}

export interface RateLimitSettings {
  /** Requests a client may send at once. */
  burst: number;
  /** Requests a client may send per minute, on average, after that. */
  perMinute: number;
}

/**
 * The plugin counts requests in a fixed window per key, not a token bucket: `burst`
 * requests per window, the window being as long as the old bucket took to refill from
 * empty, which keeps the average at `perMinute`. What differs: a client refused waits
 * for the end of the window rather than one refill step, and one that times its requests
 * around a window's end can send up to twice `burst` in quick succession.
 */
export function routeRateLimit(settings: RateLimitSettings): RateLimitOptions {
  return { max: settings.burst, timeWindow: rateLimitWindowMs(settings) };
}

export function rateLimitWindowMs({ burst, perMinute }: RateLimitSettings): number {
  return Math.max(1, Math.round((burst / perMinute) * 60_000));
}

/**
 * A key lives one UTC day (see `createDailyKey`): a longer window would never end for any
 * key, and its `Retry-After` would name a time long after the client is let in again.
 */
export const MAX_RATE_LIMIT_WINDOW_MS = 24 * 60 * 60_000;

/**
 * The key for a client address, salted for the current UTC day: every address of one
 * client (its /64, or both spellings of its IPv4 address) gets the same key. A request
 * whose socket has already closed has no address any more; it still gets a key (one shared
 * by all such requests), since nothing can be answered to it anyway and throwing would log
 * a 500.
 */
export function createDailyKey(now: () => number): (address: string | undefined) => string {
  let salt = randomBytes(32);
  let saltDay = utcDay(now());
  return (address) => {
    const today = utcDay(now());
    if (today !== saltDay) {
      salt = randomBytes(32);
      saltDay = today;
    }
    return createHmac('sha256', salt)
      .update(address === undefined ? '' : rateLimitSubject(address))
      .digest('base64url');
  };
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
