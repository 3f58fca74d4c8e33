/**
 * Which IP addresses a webhook may be sent to (PRODUCT.md §7, SSRF guard). Pure: the URL rules
 * use it for IP literals and the guarded DNS lookup uses it for every resolved address.
 *
 * The rule is a deny list of special-purpose ranges (IANA special-purpose registries plus cloud
 * metadata addresses), with IPv6 forms that embed an IPv4 address judged by that IPv4 address,
 * so `::ffff:127.0.0.1` cannot sneak past a rule written for `127.0.0.0/8`.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One operator allow-listed subnet (`HOOKLINE_ALLOW_SUBNETS`), parsed once at start-up. */
export interface ParsedSubnet {
  /** Normalised text, for logs and messages. */
  readonly cidr: string;
  readonly address: Address;
  readonly prefix: number;
}

export interface AddressVerdict {
  blocked: boolean;
  /** Why it is blocked, e.g. `loopback 127.0.0.0/8`; absent when allowed. */
  range?: string;
}

export interface AddressPolicyOptions {
  /**
   * Development mode (HOOKLINE_ALLOW_INSECURE_URLS): loopback and private ranges are allowed so a
   * receiver on the developer's machine or LAN works. Metadata, link-local, multicast and the
   * other ranges stay blocked: nothing a developer needs lives there.
   */
  allowInsecure?: boolean;
}

interface Rule {
  name: string;
  cidr: string;
  range: [Address, number];
  /** Relaxed in development mode. */
  dev: boolean;
}

/**
 * Opened only by an allow entry that names the one address: a wider allow-subnet around it
 * leaves it blocked, since the cloud's instance credentials live there.
 */
const CLOUD_METADATA = 'cloud-metadata';

function rule(name: string, cidr: string, dev = false): Rule {
  return { name, cidr, range: ipaddr.parseCIDR(cidr), dev };
}

// Order matters only for the label: the most specific entry comes first, so 169.254.169.254 is
// reported as metadata rather than as link-local.
const IPV4_RULES: readonly Rule[] = [
  rule(CLOUD_METADATA, '169.254.169.254/32'),
  // Azure's platform endpoint (wire server, DNS, health): a public-looking address that only
  // answers from inside the cloud, so it is an SSRF target like 169.254.169.254.
  rule(CLOUD_METADATA, '168.63.129.16/32'),
  rule(CLOUD_METADATA, '100.100.100.200/32'), // Alibaba Cloud; inside CGNAT, named for the message
  rule('unspecified', '0.0.0.0/8'), // Linux connects 0.0.0.0 to the local host
  rule('private', '10.0.0.0/8', true),
  rule('cgnat', '100.64.0.0/10'),
  rule('loopback', '127.0.0.0/8', true),
  rule('link-local', '169.254.0.0/16'),
  rule('private', '172.16.0.0/12', true),
  rule('ietf-protocol', '192.0.0.0/24'),
  rule('documentation', '192.0.2.0/24'),
  rule('private', '192.168.0.0/16', true),
  rule('benchmarking', '198.18.0.0/15'),
  rule('documentation', '198.51.100.0/24'),
  rule('documentation', '203.0.113.0/24'),
  rule('multicast', '224.0.0.0/4'),
  rule('broadcast', '255.255.255.255/32'),
  rule('reserved', '240.0.0.0/4'),
];

const IPV6_RULES: readonly Rule[] = [
  rule('unspecified', '::/128'),
  rule('loopback', '::1/128', true),
  rule(CLOUD_METADATA, 'fd00:ec2::254/128'),
  rule('unique-local', 'fc00::/7', true),
  rule('link-local', 'fe80::/10'),
  rule('site-local', 'fec0::/10'), // deprecated, but some networks still route it privately
  rule('multicast', 'ff00::/8'),
  rule('documentation', '2001:db8::/32'),
  rule('teredo', '2001::/32'), // the embedded client address is obfuscated: block the lot
  rule('benchmarking', '2001:2::/48'),
  rule('nat64-local', '64:ff9b:1::/48'), // RFC 8215 local-use translation: site-internal by design
  rule('discard', '100::/64'),
  // Every public IPv6 address is in 2000::/3. Anything outside it (after the embedded-IPv4 forms
  // below have been judged) is reserved space that no legitimate receiver uses.
];
const GLOBAL_UNICAST_V6: [Address, number] = ipaddr.parseCIDR('2000::/3');

/** IPv6 forms that carry an IPv4 address, and where it sits (index of the first 16-bit part). */
interface Embedding {
  name: string;
  cidr: string;
  range: [Address, number];
  at: number;
}
const EMBEDDINGS: readonly Embedding[] = [
  { name: 'IPv4-mapped', cidr: '::ffff:0:0/96', range: ipaddr.parseCIDR('::ffff:0:0/96'), at: 6 },
  { name: 'IPv4-translated', cidr: '::ffff:0:0:0/96', range: ipaddr.parseCIDR('::ffff:0:0:0/96'), at: 6 },
  { name: 'NAT64', cidr: '64:ff9b::/96', range: ipaddr.parseCIDR('64:ff9b::/96'), at: 6 },
  { name: '6to4', cidr: '2002::/16', range: ipaddr.parseCIDR('2002::/16'), at: 1 },
  // IPv4-compatible (deprecated). `::` and `::1` are inside it too; they are ruled on first.
  { name: 'IPv4-compatible', cidr: '::/96', range: ipaddr.parseCIDR('::/96'), at: 6 },
];

const DOTTED_TAIL = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * Parses only canonical spellings: strict dotted-quad IPv4 and RFC 4291 IPv6. ipaddr.js alone is
 * too lenient for a security check (it reads `127.1`, `0x7f.0.0.1` and octal `010.0.0.1`, and
 * it turns `::a.b.c.d` into the IPv4-mapped form), so odd spellings are refused, not guessed.
 */
function parseStrict(ip: string): Address | null {
  if (!ip.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(ip) ? ipaddr.IPv4.parse(ip) : null;
  // A zone (`fe80::1%eth0`) only picks the interface; the range is decided by the address.
  let text = ip.split('%', 1)[0] ?? '';
  const tail = DOTTED_TAIL.exec(text);
  if (tail) {
    const [, head = '', dotted = ''] = tail;
    if (!ipaddr.IPv4.isValidFourPartDecimal(dotted)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(dotted).octets;
    text = `${head}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  // Any dot left is a tail ipaddr.js would read leniently (`::ffff:0x7f.0.0.1`): refuse it.
  return !text.includes('.') && ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : null;
}

const isHost = (s: ParsedSubnet) => s.prefix === (s.address.kind() === 'ipv4' ? 32 : 128);

function inSubnets(addr: Address, subnets: readonly ParsedSubnet[]): boolean {
  // ipaddr.js throws when asked to match across families, so compare kinds first.
  return subnets.some((s) => s.address.kind() === addr.kind() && addr.match(s.address, s.prefix));
}

interface Hit {
  rule: Rule;
  via?: Embedding;
  embedded?: ipaddr.IPv4;
}

function firstRule(addr: Address, rules: readonly Rule[]): Rule | undefined {
  return rules.find((r) => addr.match(r.range));
}

function classify(addr: Address): Hit | null {
  if (addr.kind() === 'ipv4') {
    const hit = firstRule(addr, IPV4_RULES);
    return hit ? { rule: hit } : null;
  }
  const v6 = addr as ipaddr.IPv6;
  const exact = firstRule(v6, IPV6_RULES.slice(0, 2)); // `::` and `::1` before the ::/96 embedding
  if (exact) return { rule: exact };
  const via = EMBEDDINGS.find((e) => v6.match(e.range));
  if (via) {
    const hi = v6.parts[via.at] ?? 0;
    const lo = v6.parts[via.at + 1] ?? 0;
    const embedded = new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
    const hit = firstRule(embedded, IPV4_RULES);
    return hit ? { rule: hit, via, embedded } : null;
  }
  const hit = firstRule(v6, IPV6_RULES);
  if (hit) return { rule: hit };
  if (!v6.match(GLOBAL_UNICAST_V6)) return { rule: { name: 'reserved', cidr: 'outside 2000::/3', range: GLOBAL_UNICAST_V6, dev: false } };
  return null;
}

/**
 * Whether `ip` (a canonical address, as DNS or the WHATWG URL parser produce) must not be
 * contacted. An operator allow-subnet overrides any block, matched against the address itself
 * or, for the IPv6 forms that embed one, against the embedded IPv4 address; a cloud-metadata
 * address only by an entry for that host alone (allowing `fd00::/8` or `100.64.0.0/10` for an
 * internal receiver must not open `fd00:ec2::254` or `100.100.100.200` to every tenant).
 */
export function isBlockedAddress(ip: string, allow: readonly ParsedSubnet[], options: AddressPolicyOptions = {}): AddressVerdict {
  const addr = parseStrict(ip);
  // Fail closed: whatever we cannot read, we do not connect to.
  if (!addr) return { blocked: true, range: 'not a canonical IP address' };
  const hit = classify(addr);
  const blocked = (h: Hit): AddressVerdict => {
    const range = `${h.rule.name} ${h.rule.cidr}`;
    return { blocked: true, range: h.via ? `${range} via ${h.via.name} ${h.via.cidr}` : range };
  };
  if (hit?.rule.name === CLOUD_METADATA) return allow.some((s) => isHost(s) && inSubnets(hit.embedded ?? addr, [s])) ? { blocked: false } : blocked(hit);
  if (inSubnets(addr, allow)) return { blocked: false };
  if (!hit) return { blocked: false };
  if (hit.embedded && inSubnets(hit.embedded, allow)) return { blocked: false };
  if (options.allowInsecure && hit.rule.dev) return { blocked: false };
  return blocked(hit);
}

/**
 * Parses `HOOKLINE_ALLOW_SUBNETS`: comma-separated CIDRs such as `10.1.0.0/16, fd12::/16`. A bare
 * address means that one host. Throws on the first bad entry so a typo stops start-up instead of
 * silently leaving a receiver blocked (or, worse, a range open).
 */
export function parseAllowSubnets(csv: string): ParsedSubnet[] {
  return csv
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map(parseSubnet);
}

function parseSubnet(entry: string): ParsedSubnet {
  const bad = (why: string) => new Error(`HOOKLINE_ALLOW_SUBNETS: "${entry}" is not a valid CIDR (${why}); expected e.g. 10.0.0.0/8 or fd00::/8`);
  const slash = entry.lastIndexOf('/');
  const text = slash === -1 ? entry : entry.slice(0, slash);
  if (text.includes('%')) throw bad('zone ids are not allowed');
  const address = parseStrict(text);
  if (!address) throw bad('not an IPv4 or IPv6 address');
  const max = address.kind() === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const bits = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw bad(`prefix must be 0–${max}`);
    prefix = Number(bits);
  }
  const text6 = address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
  return { cidr: `${text6}/${prefix}`, address, prefix };
}
