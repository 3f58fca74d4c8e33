/**
 * Endpoint URL rules, checked on create/update and again before each send (PRODUCT.md §7).
 *
 * This is the static half of the SSRF guard: it judges what the URL itself says (scheme, port,
 * IP literals, `localhost`). Names are accepted without DNS, since a name that does not resolve
 * today may tomorrow; the guarded lookup in activities/ judges every address a name resolves to
 * at connect time. IP literals never reach that lookup (Node connects to them directly), so this
 * module is their only check.
 */
import ipaddr from 'ipaddr.js';
import { isBlockedAddress, type ParsedSubnet } from './address-rules';

export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  /**
   * Development mode (HOOKLINE_ALLOW_INSECURE_URLS): `http`, `localhost`, loopback and private
   * literals, and any port 1–65535. Metadata, link-local and the other special ranges stay refused.
   */
  allowInsecure: boolean;
  /** HOOKLINE_ALLOW_SUBNETS: literals in these subnets are accepted even in a blocked range. */
  allowSubnets?: readonly ParsedSubnet[];
}

/**
 * `blockedAddress`: refused for where it points (a blocked address literal, localhost), not for
 * its form; an attempt records that as `ssrf_blocked`, as it does an address refused at connect.
 */
export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string; blockedAddress?: true };

/**
 * Ports the Fetch standard forbids ("bad ports"): well-known non-HTTP services. A webhook body
 * is attacker-chosen text, so POSTing it to SMTP, IRC, FTP or similar on a public host turns
 * Hookline into a cross-protocol relay (spam, IRC commands). Browsers refuse these ports for the
 * same reason, so no real receiver can depend on them. Refused unless in development mode.
 * https://fetch.spec.whatwg.org/#port-blocking
 */
export const BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export function checkEndpointUrl(raw: string, policy: UrlPolicy): UrlVerdict {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `URL is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    // WHATWG parsing normalises the host: `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` all
    // become `127.0.0.1`, and IPv6 is compressed. Everything below judges that normalised form,
    // which is also what the HTTP client will connect to.
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL (scheme, host, and a port of at most 65535)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: policy.allowInsecure ? 'scheme must be https or http' : 'scheme must be https' };
  if (url.protocol === 'http:' && !policy.allowInsecure) {
    return { ok: false, reason: 'scheme must be https (http needs HOOKLINE_ALLOW_INSECURE_URLS)' };
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed; use a custom header' };
  if (url.hash) return { ok: false, reason: 'fragments are not allowed' };

  // `url.port` is '' for the scheme's default port; the parser already refuses > 65535.
  if (url.port !== '') {
    const port = Number(url.port);
    if (port === 0) return { ok: false, reason: 'port 0 is not allowed' };
    if (!policy.allowInsecure && BLOCKED_PORTS.has(port)) {
      return { ok: false, reason: `port ${port} belongs to a non-HTTP service and is not allowed` };
    }
  }

  const host = url.hostname;
  const literal = host.startsWith('[') ? host.slice(1, -1) : ipaddr.IPv4.isValidFourPartDecimal(host) ? host : null;
  if (literal !== null) {
    const verdict = isBlockedAddress(literal, policy.allowSubnets ?? [], { allowInsecure: policy.allowInsecure });
    if (verdict.blocked) return { ok: false, reason: `address ${literal} is not allowed (${verdict.range ?? 'blocked range'})`, blockedAddress: true };
    return { ok: true, url };
  }

  // One trailing dot is a fully qualified name (`localhost.` is still localhost); any other empty
  // label cannot resolve and is refused so that tricks like `localhost..` go nowhere.
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  if (name === '' || name.split('.').includes('')) return { ok: false, reason: 'host name has an empty label' };
  if (!policy.allowInsecure && (name === 'localhost' || name.endsWith('.localhost'))) {
    return { ok: false, reason: 'localhost is not allowed', blockedAddress: true };
  }
  return { ok: true, url };
}
