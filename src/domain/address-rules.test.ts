import { describe, expect, it } from 'vitest';
import { isBlockedAddress, parseAllowSubnets } from './address-rules';

describe('isBlockedAddress', () => {
  // [address, blocked, expected start of the range label]
  it.each([
    // IPv4 special-purpose ranges
    ['10.0.0.1', true, 'private 10.0.0.0/8'],
    ['10.255.255.255', true, 'private'],
    ['172.16.0.1', true, 'private 172.16.0.0/12'],
    ['172.31.255.255', true, 'private'],
    ['192.168.1.1', true, 'private 192.168.0.0/16'],
    ['127.0.0.1', true, 'loopback 127.0.0.0/8'],
    ['127.255.255.254', true, 'loopback'],
    ['169.254.1.1', true, 'link-local 169.254.0.0/16'],
    ['169.254.169.254', true, 'cloud-metadata 169.254.169.254/32'],
    ['168.63.129.16', true, 'cloud-metadata'],
    ['100.100.100.200', true, 'cloud-metadata'],
    ['100.64.0.1', true, 'cgnat 100.64.0.0/10'],
    ['100.127.255.255', true, 'cgnat'],
    ['224.0.0.1', true, 'multicast 224.0.0.0/4'],
    ['239.255.255.250', true, 'multicast'],
    ['0.0.0.0', true, 'unspecified 0.0.0.0/8'],
    ['0.1.2.3', true, 'unspecified'],
    ['240.0.0.1', true, 'reserved 240.0.0.0/4'],
    ['255.255.255.255', true, 'broadcast'],
    ['192.0.2.10', true, 'documentation 192.0.2.0/24'],
    ['198.51.100.10', true, 'documentation'],
    ['203.0.113.10', true, 'documentation'],
    ['198.18.0.1', true, 'benchmarking 198.18.0.0/15'],
    ['198.19.255.255', true, 'benchmarking'],
    ['192.0.0.8', true, 'ietf-protocol 192.0.0.0/24'],
    // IPv4 neighbours of those ranges that are public
    ['8.8.8.8', false, undefined],
    ['1.1.1.1', false, undefined],
    ['9.255.255.255', false, undefined],
    ['11.0.0.0', false, undefined],
    ['100.63.255.255', false, undefined],
    ['100.128.0.0', false, undefined],
    ['172.15.255.255', false, undefined],
    ['172.32.0.0', false, undefined],
    ['192.167.255.255', false, undefined],
    ['192.169.0.0', false, undefined],
    ['198.17.255.255', false, undefined],
    ['198.20.0.0', false, undefined],
    ['223.255.255.255', false, undefined],
    // IPv6 special-purpose ranges
    ['::', true, 'unspecified ::/128'],
    ['::1', true, 'loopback ::1/128'],
    ['fe80::1', true, 'link-local fe80::/10'],
    ['fe80::1%eth0', true, 'link-local'],
    ['febf:ffff::1', true, 'link-local'],
    ['fc00::1', true, 'unique-local fc00::/7'],
    ['fd00::1', true, 'unique-local'],
    ['fd12:3456:789a::1', true, 'unique-local'],
    ['fd00:ec2::254', true, 'cloud-metadata fd00:ec2::254/128'],
    ['fec0::1', true, 'site-local'],
    ['ff02::1', true, 'multicast ff00::/8'],
    ['ff05::1:3', true, 'multicast'],
    ['2001:db8::1', true, 'documentation 2001:db8::/32'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true, 'teredo 2001::/32'],
    ['2001:2::1', true, 'benchmarking'],
    ['64:ff9b:1::a00:1', true, 'nat64-local'],
    ['100::1', true, 'discard'],
    ['4000::1', true, 'reserved outside 2000::/3'],
    ['::1:0:0:1', true, 'reserved'],
    // IPv6 forms that embed an IPv4 address are judged by it
    ['::ffff:127.0.0.1', true, 'loopback 127.0.0.0/8 via IPv4-mapped ::ffff:0:0/96'],
    ['::ffff:7f00:1', true, 'loopback 127.0.0.0/8 via IPv4-mapped'],
    ['::ffff:169.254.169.254', true, 'cloud-metadata 169.254.169.254/32 via IPv4-mapped'],
    ['::ffff:10.1.2.3', true, 'private 10.0.0.0/8 via IPv4-mapped'],
    ['::ffff:8.8.8.8', false, undefined],
    ['::ffff:0:127.0.0.1', true, 'loopback 127.0.0.0/8 via IPv4-translated'],
    ['::127.0.0.1', true, 'loopback 127.0.0.0/8 via IPv4-compatible ::/96'],
    ['::7f00:1', true, 'loopback 127.0.0.0/8 via IPv4-compatible'],
    ['::808:808', false, undefined],
    ['64:ff9b::127.0.0.1', true, 'loopback 127.0.0.0/8 via NAT64 64:ff9b::/96'],
    ['64:ff9b::a9fe:a9fe', true, 'cloud-metadata 169.254.169.254/32 via NAT64'],
    ['64:ff9b::8.8.8.8', false, undefined],
    ['2002:7f00:1::1', true, 'loopback 127.0.0.0/8 via 6to4 2002::/16'],
    ['2002:c0a8:101::1', true, 'private 192.168.0.0/16 via 6to4'],
    ['2002:808:808::1', false, undefined],
    // public IPv6
    ['2606:4700:4700::1111', false, undefined],
    ['2a00:1450:4001:80b::200e', false, undefined],
    ['2001:4860:4860::8888', false, undefined],
    // spellings that are not canonical fail closed rather than being guessed at
    ['127.1', true, 'not a canonical IP address'],
    ['0x7f.0.0.1', true, 'not a canonical IP address'],
    ['0177.0.0.1', true, 'not a canonical IP address'],
    ['2130706433', true, 'not a canonical IP address'],
    ['010.0.0.1', true, 'not a canonical IP address'],
    ['::ffff:127.1', true, 'not a canonical IP address'],
    ['::ffff:0x7f.0.0.1', true, 'not a canonical IP address'],
    ['::ffff:010.0.0.1', true, 'not a canonical IP address'],
    ['example.com', true, 'not a canonical IP address'],
    ['', true, 'not a canonical IP address'],
    ['1.2.3.256', true, 'not a canonical IP address'],
  ] as const)('%s → blocked %s (%s)', (ip, blocked, range) => {
    const verdict = isBlockedAddress(ip, []);
    expect(verdict.blocked).toBe(blocked);
    if (range === undefined) expect(verdict.range).toBeUndefined();
    else expect(verdict.range?.startsWith(range)).toBe(true);
  });

  it('lets an operator allow-subnet override a block', () => {
    const allow = parseAllowSubnets('10.20.0.0/16, fd00:1234::/32, 169.254.169.254');
    expect(isBlockedAddress('10.20.30.40', allow).blocked).toBe(false);
    expect(isBlockedAddress('10.21.0.1', allow).blocked).toBe(true);
    expect(isBlockedAddress('fd00:1234::5', allow).blocked).toBe(false);
    expect(isBlockedAddress('fd00:1235::5', allow).blocked).toBe(true);
    expect(isBlockedAddress('169.254.169.254', allow).blocked).toBe(false);
    expect(isBlockedAddress('169.254.169.253', allow).blocked).toBe(true);
  });

  it('opens a cloud-metadata address only to an allow entry for that host, never to a wider subnet around it', () => {
    const wide = parseAllowSubnets('169.254.0.0/16, 100.64.0.0/10, fd00::/8, 168.63.0.0/16');
    for (const metadata of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', '168.63.129.16', '::ffff:169.254.169.254']) {
      expect(isBlockedAddress(metadata, wide), metadata).toMatchObject({ blocked: true, range: expect.stringContaining('cloud-metadata') });
    }
    // The rest of those subnets is open.
    expect(isBlockedAddress('169.254.1.1', wide).blocked).toBe(false);
    expect(isBlockedAddress('100.64.0.1', wide).blocked).toBe(false);
    expect(isBlockedAddress('fd00:ec2::253', wide).blocked).toBe(false);
    // Named alone, the host is the operator's explicit choice.
    const exact = parseAllowSubnets('169.254.169.254/32, fd00:ec2::254');
    expect(isBlockedAddress('169.254.169.254', exact).blocked).toBe(false);
    expect(isBlockedAddress('::ffff:169.254.169.254', exact).blocked).toBe(false);
    expect(isBlockedAddress('fd00:ec2::254', exact).blocked).toBe(false);
    expect(isBlockedAddress('100.100.100.200', exact).blocked).toBe(true);
  });

  it('matches an IPv4 allow-subnet against an embedded IPv4 address too', () => {
    const allow = parseAllowSubnets('10.20.0.0/16');
    expect(isBlockedAddress('::ffff:10.20.0.1', allow).blocked).toBe(false);
    expect(isBlockedAddress('64:ff9b::a14:1', allow).blocked).toBe(false);
    expect(isBlockedAddress('::ffff:10.21.0.1', allow).blocked).toBe(true);
  });

  it('does not confuse families when matching allow-subnets', () => {
    const allow = parseAllowSubnets('::/0');
    expect(isBlockedAddress('127.0.0.1', allow).blocked).toBe(true);
    expect(isBlockedAddress('::1', allow).blocked).toBe(false);
  });

  it('relaxes only loopback and private ranges in development mode', () => {
    const dev = { allowInsecure: true };
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '172.16.5.4', '192.168.1.1', 'fd00::1', '::ffff:127.0.0.1']) {
      expect(isBlockedAddress(ip, [], dev), ip).toEqual({ blocked: false });
    }
    for (const ip of ['169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '::', '100.64.0.1', '224.0.0.1', 'fe80::1', '127.1']) {
      expect(isBlockedAddress(ip, [], dev).blocked, ip).toBe(true);
    }
  });
});

describe('parseAllowSubnets', () => {
  it('parses comma-separated CIDRs, ignoring blanks and spaces', () => {
    expect(parseAllowSubnets(' 10.0.0.0/8 ,,192.168.1.0/24, fd00::/8 ').map((s) => s.cidr)).toEqual([
      '10.0.0.0/8',
      '192.168.1.0/24',
      'fd00::/8',
    ]);
    expect(parseAllowSubnets('')).toEqual([]);
    expect(parseAllowSubnets('  ')).toEqual([]);
  });

  it('reads a bare address as that one host', () => {
    expect(parseAllowSubnets('10.1.2.3,FD00:0:0::1').map((s) => s.cidr)).toEqual(['10.1.2.3/32', 'fd00::1/128']);
  });

  it.each([
    ['10.0.0.0/33', /prefix must be 0–32/],
    ['fd00::/129', /prefix must be 0–128/],
    ['10.0.0.0/', /prefix/],
    ['10.0.0.0/8x', /prefix/],
    ['10.0.0/8', /not an IPv4 or IPv6 address/],
    ['10.0.0.0.0/8', /not an IPv4 or IPv6 address/],
    ['0x0a.0.0.0/8', /not an IPv4 or IPv6 address/],
    ['example.com/24', /not an IPv4 or IPv6 address/],
    ['fe80::1%eth0/64', /zone ids/],
  ])('refuses %s with a clear message', (csv, message) => {
    expect(() => parseAllowSubnets(`192.168.0.0/16,${csv}`)).toThrow(message);
    expect(() => parseAllowSubnets(csv)).toThrow(new RegExp(`HOOKLINE_ALLOW_SUBNETS: "${csv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
  });
});
