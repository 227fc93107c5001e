import { describe, expect, it } from 'vitest';
import { createDailyKey, routeRateLimit } from './rate-limit';

describe('createDailyKey', () => {
  it('keys an address the same all day, never as the address itself', () => {
    let nowMs = Date.parse('2026-05-01T00:00:00Z');
    const keyOf = createDailyKey(() => nowMs);
    const morning = keyOf('192.0.2.1');
    nowMs = Date.parse('2026-05-01T23:59:59Z');
    expect(keyOf('192.0.2.1')).toBe(morning);
    expect(keyOf('192.0.2.2')).not.toBe(morning);
    expect(morning).not.toContain('192.0.2.1');
  });

  it('gives the same address another key the next UTC day', () => {
    let nowMs = Date.parse('2026-05-01T23:59:59Z');
    const keyOf = createDailyKey(() => nowMs);
    const before = keyOf('192.0.2.1');
    nowMs += 2_000;
    expect(keyOf('192.0.2.1')).not.toBe(before);
  });

  it('gives a request with no address left a key instead of throwing', () => {
    const keyOf = createDailyKey(() => Date.parse('2026-05-01T12:00:00Z'));
    expect(keyOf(undefined)).toBe(keyOf(undefined));
    expect(keyOf(undefined)).not.toBe(keyOf('192.0.2.1'));
  });
});

describe('routeRateLimit', () => {
  it('allows the burst per window, the window being the time to earn the burst back', () => {
    expect(routeRateLimit({ burst: 30, perMinute: 60 })).toEqual({ max: 30, timeWindow: 30_000 });
    expect(routeRateLimit({ burst: 5, perMinute: 0.5 })).toEqual({ max: 5, timeWindow: 600_000 });
    // Never a zero window, however generous the rate.
    expect(routeRateLimit({ burst: 1, perMinute: 1e9 }).timeWindow).toBe(1);
  });
});

describe('createDailyKey, per client', () => {
  const keyOf = createDailyKey(() => Date.parse('2026-05-01T12:00:00Z'));

  it('gives every address of one IPv6 /64 one key, and another /64 another', () => {
    const key = keyOf('2001:db8:1:2::1');
    expect(keyOf('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(key);
    expect(keyOf('2001:db8:1:3::1')).not.toBe(key);
  });

  it('gives an IPv4 client one key, whether the socket writes it mapped or plain', () => {
    expect(keyOf('::ffff:192.0.2.1')).toBe(keyOf('192.0.2.1'));
    expect(keyOf('::ffff:192.0.2.2')).not.toBe(keyOf('192.0.2.1'));
  });
});
