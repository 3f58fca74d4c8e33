/**
 * The connect-time half of the SSRF guard (PRODUCT.md §7): a `lookup` for undici's
 * `connect: { lookup }` (Node's net.LookupFunction) that resolves a name once, checks every
 * address with the domain rules, and hands the socket exactly the addresses it checked.
 *
 * Checking in a separate step before the request (resolve, check, then let the client resolve
 * again) is open to DNS rebinding: a short-TTL name answers a public address to the check and
 * 127.0.0.1 to the connect. Here the check and the connect share one answer, and every new
 * connection resolves and checks afresh.
 */
import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isBlockedAddress, type ParsedSubnet } from '../domain/address-rules';

export const SSRF_BLOCKED = 'SSRF_BLOCKED';

export interface ResolveOptions {
  /** 0 means either family. */
  family: 0 | 4 | 6;
  hints?: number;
}

/** Returns every address for `hostname`; injectable so tests can play a rebinding DNS server. */
export type Resolver = (hostname: string, options: ResolveOptions) => Promise<LookupAddress[]>;

export interface GuardedLookupOptions {
  resolve?: Resolver;
  allowSubnets?: readonly ParsedSubnet[];
  /** Development mode: loopback and private addresses are allowed (see address-rules). */
  allowInsecure?: boolean;
}

/**
 * Carries `code: 'SSRF_BLOCKED'` so the sender can classify the attempt as `ssrf_blocked`. The
 * message is stored with the attempt, which application keys read: it names the range, not the
 * address, so a tenant cannot map internal DNS through it (`address` stays on the error for logs).
 */
export class SsrfBlockedError extends Error {
  readonly code = SSRF_BLOCKED;

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`SSRF guard: ${hostname} resolved to an address in a blocked range (${range})`);
    this.name = 'SsrfBlockedError';
  }
}

const defaultResolve: Resolver = (hostname, { family, hints }) =>
  dnsPromises.lookup(hostname, { all: true, family, ...(hints === undefined ? {} : { hints }) });

function familyOf(family: number | string | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  // Same shape as Node's own failure, so existing error classification reads it as a DNS error.
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
}

export function createGuardedLookup(options: GuardedLookupOptions = {}): LookupFunction {
  const resolve = options.resolve ?? defaultResolve;
  const allow = options.allowSubnets ?? [];
  const policy = { allowInsecure: options.allowInsecure ?? false };

  async function resolveChecked(hostname: string, family: 0 | 4 | 6, hints: number | undefined): Promise<LookupAddress[]> {
    const answers = await resolve(hostname, { family, hints });
    // Every answer, not just the one we will use: with several addresses the socket (or its
    // happy-eyeballs fallback) may try any of them, and a mixed answer is itself a red flag.
    for (const { address } of answers) {
      const verdict = isBlockedAddress(address, allow, policy);
      if (verdict.blocked) throw new SsrfBlockedError(hostname, address, verdict.range ?? 'blocked range');
    }
    // A resolver that ignores `family` must not hand an IPv6 address to an IPv4-only caller.
    const usable = family === 0 ? answers : answers.filter((a) => a.family === family);
    if (usable.length === 0) throw notFound(hostname);
    return usable;
  }

  return (hostname, lookupOptions, callback) => {
    const wantAll = lookupOptions.all === true;
    resolveChecked(hostname, familyOf(lookupOptions.family), lookupOptions.hints).then(
      // Leave the promise chain before calling back, so an exception thrown by the caller's
      // callback surfaces as it would from dns.lookup instead of becoming a second callback.
      (addresses) =>
        process.nextTick(() => {
          const [first] = addresses as [LookupAddress, ...LookupAddress[]];
          if (wantAll) callback(null, addresses);
          else callback(null, first.address, first.family);
        }),
      (err: unknown) => {
        const error: NodeJS.ErrnoException = err instanceof Error ? err : new Error(String(err));
        process.nextTick(() => callback(error, wantAll ? [] : ''));
      },
    );
  };
}
