import { isIP } from 'node:net';

/**
 * The 8 groups of an IPv6 address, or null for anything `isIP` does not take as IPv6. A
 * zone (`fe80::1%eth0`) is dropped: it names an interface of this machine, not the client.
 */
export function ipv6Groups(address: string): number[] | null {
  const text = address.split('%', 1)[0] ?? '';
  if (isIP(text) !== 6) return null;
  // A dotted IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const hex = tail
    ? `${text.slice(0, tail.index)}${((Number(tail[1]) << 8) | Number(tail[2])).toString(16)}:${(
        (Number(tail[3]) << 8) |
        Number(tail[4])
      ).toString(16)}`
    : text;
  const [head = '', rest] = hex.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const before = parse(head);
  if (rest === undefined) return before;
  const after = parse(rest);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** Whether IPv6 groups are an IPv4-mapped address (`::ffff:a.b.c.d`). */
export function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

/**
 * The part of a client's address that stands for one client, for rate limiting. An IPv6
 * provider hands each subscriber (one phone, one home) a whole /64 and the device picks
 * addresses in it at will, so the /64 is the client; keyed by the full address, each
 * address would get a budget of its own. A dual-stack socket reports an IPv4 client as
 * `::ffff:a.b.c.d`, which must count with the same client written `a.b.c.d`.
 * Anything that is not an IP address (none should reach here) is kept as it is.
 */
export function rateLimitSubject(address: string): string {
  if (isIP(address) === 4) return address;
  const groups = ipv6Groups(address);
  if (groups === null) return address;
  if (isIpv4Mapped(groups)) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
