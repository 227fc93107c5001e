import { describe, expect, it } from 'vitest';
import { ipv6Groups, isIpv4Mapped, rateLimitSubject } from './client-address';

describe('ipv6Groups', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['2001:db8::', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]],
    ['2001:DB8:0:0:1::2', [0x2001, 0xdb8, 0, 0, 1, 0, 0, 2]],
    ['2001:db8:1:2:3:4:5:6', [0x2001, 0xdb8, 1, 2, 3, 4, 5, 6]],
    ['::ffff:192.0.2.1', [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201]],
    ['fe80::1%eth0', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
  ])('reads %s', (address, groups) => {
    expect(ipv6Groups(address)).toEqual(groups);
  });

  it('takes nothing but IPv6', () => {
    for (const text of ['192.0.2.1', 'localhost', '', '1::2::3', '::ffff:999.0.0.1']) {
      expect(ipv6Groups(text), text).toBeNull();
    }
  });

  it('tells an IPv4-mapped address from its neighbours', () => {
    expect(isIpv4Mapped(ipv6Groups('::ffff:192.0.2.1') ?? [])).toBe(true);
    expect(isIpv4Mapped(ipv6Groups('::ffff:c000:201') ?? [])).toBe(true);
    expect(isIpv4Mapped(ipv6Groups('::192.0.2.1') ?? [])).toBe(false);
    expect(isIpv4Mapped(ipv6Groups('64:ff9b::192.0.2.1') ?? [])).toBe(false);
    expect(isIpv4Mapped(ipv6Groups('1::ffff:c000:201') ?? [])).toBe(false);
  });
});

describe('rateLimitSubject', () => {
  it('keeps an IPv4 address, and unmaps its IPv6 spellings', () => {
    expect(rateLimitSubject('192.0.2.1')).toBe('192.0.2.1');
    expect(rateLimitSubject('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(rateLimitSubject('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(rateLimitSubject('::ffff:c000:201')).toBe('192.0.2.1');
    expect(rateLimitSubject('0:0:0:0:0:ffff:c000:0201')).toBe('192.0.2.1');
  });

  it('gives every address of a /64 the same subject, however written', () => {
    const subjects = [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:abcd:0:0:9',
      '2001:db8:1:2:a:b:1.2.3.4',
      'fe80::1%eth0',
    ].map(rateLimitSubject);
    expect(new Set(subjects.slice(0, 4))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(subjects[4]).toBe('fe80:0:0:0::/64');
  });

  it('keeps /64s apart', () => {
    expect(rateLimitSubject('2001:db8:1:3::1')).not.toBe(rateLimitSubject('2001:db8:1:2::1'));
    expect(rateLimitSubject('::1')).toBe('0:0:0:0::/64');
  });

  it('passes on what is no address unchanged', () => {
    expect(rateLimitSubject('unknown')).toBe('unknown');
  });
});
