import { createServer, type Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo, LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowSubnets } from '../domain/address-rules';
import { createGuardedLookup, SSRF_BLOCKED, SsrfBlockedError, type Resolver } from './guarded-lookup';

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

/** A resolver that plays back one answer per call and counts its calls. */
function scripted(...answers: LookupAddress[][]): Resolver & { calls: number } {
  const fn = async () => {
    const answer = answers[Math.min(fn.calls, answers.length - 1)] ?? [];
    fn.calls++;
    return answer;
  };
  fn.calls = 0;
  return fn;
}

type Outcome = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookupOnce(lookup: LookupFunction, hostname: string, options: Parameters<LookupFunction>[1] = {}): Promise<Outcome> {
  return new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })));
}

describe('createGuardedLookup', () => {
  it('returns the checked public address, in both callback shapes', async () => {
    const lookup = createGuardedLookup({ resolve: scripted([v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')]) });
    expect(await lookupOnce(lookup, 'example.com')).toEqual({ err: null, address: '93.184.215.14', family: 4 });
    expect(await lookupOnce(lookup, 'example.com', { all: true })).toEqual({
      err: null,
      address: [v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')],
      family: undefined,
    });
  });

  it('resolves once per lookup and blocks a rebinding answer on the second call', async () => {
    const resolve = scripted([v4('93.184.215.14')], [v4('127.0.0.1')]);
    const lookup = createGuardedLookup({ resolve });
    expect((await lookupOnce(lookup, 'rebind.example')).address).toBe('93.184.215.14');
    expect(resolve.calls).toBe(1);
    const second = await lookupOnce(lookup, 'rebind.example');
    expect(resolve.calls).toBe(2);
    expect(second.err).toBeInstanceOf(SsrfBlockedError);
    expect(second.err?.code).toBe(SSRF_BLOCKED);
    expect((second.err as SsrfBlockedError).address).toBe('127.0.0.1');
    expect(second.err?.message).toContain('loopback 127.0.0.0/8');
  });

  it('blocks a mixed answer even when the first address is public', async () => {
    const lookup = createGuardedLookup({ resolve: scripted([v4('93.184.215.14'), v4('10.0.0.7')]) });
    for (const options of [{}, { all: true }]) {
      const { err } = await lookupOnce(lookup, 'mixed.example', options);
      expect(err?.code).toBe(SSRF_BLOCKED);
      expect((err as SsrfBlockedError).address).toBe('10.0.0.7');
      expect(err?.message).not.toContain('10.0.0.7');
      expect(err?.message).toContain('private 10.0.0.0/8');
    }
  });

  it('checks addresses the requested family would have filtered out', async () => {
    const lookup = createGuardedLookup({ resolve: scripted([v4('93.184.215.14'), v6('::1')]) });
    expect((await lookupOnce(lookup, 'mixed.example', { family: 4 })).err?.code).toBe(SSRF_BLOCKED);
  });

  it('blocks metadata, IPv4-mapped and unique-local answers', async () => {
    for (const answer of [v4('169.254.169.254'), v6('::ffff:127.0.0.1'), v6('fd00::1'), v4('100.64.0.1'), v4('0.0.0.0')]) {
      const { err } = await lookupOnce(createGuardedLookup({ resolve: scripted([answer]) }), 'x.example');
      expect(err?.code, answer.address).toBe(SSRF_BLOCKED);
    }
  });

  it('lets allow-subnets and development mode through, and nothing more', async () => {
    const allowSubnets = parseAllowSubnets('10.0.0.0/24');
    const allowed = createGuardedLookup({ resolve: scripted([v4('10.0.0.7')]), allowSubnets });
    expect(await lookupOnce(allowed, 'internal.example')).toEqual({ err: null, address: '10.0.0.7', family: 4 });
    const outside = createGuardedLookup({ resolve: scripted([v4('10.0.1.7')]), allowSubnets });
    expect((await lookupOnce(outside, 'internal.example')).err?.code).toBe(SSRF_BLOCKED);

    const dev = createGuardedLookup({ resolve: scripted([v4('127.0.0.1'), v6('::1')]), allowInsecure: true });
    expect((await lookupOnce(dev, 'localhost', { all: true })).address).toEqual([v4('127.0.0.1'), v6('::1')]);
    const devMetadata = createGuardedLookup({ resolve: scripted([v4('169.254.169.254')]), allowInsecure: true });
    expect((await lookupOnce(devMetadata, 'metadata.example')).err?.code).toBe(SSRF_BLOCKED);
  });

  it('filters to the requested family and reports an empty answer as ENOTFOUND', async () => {
    const lookup = createGuardedLookup({ resolve: scripted([v4('93.184.215.14'), v6('2606:4700:4700::1111')]) });
    expect(await lookupOnce(lookup, 'example.com', { family: 6 })).toMatchObject({ address: '2606:4700:4700::1111', family: 6 });
    expect(await lookupOnce(lookup, 'example.com', { family: 'IPv4', all: true })).toMatchObject({ address: [v4('93.184.215.14')] });
    const empty = await lookupOnce(createGuardedLookup({ resolve: scripted([]) }), 'nothing.example');
    expect(empty.err?.code).toBe('ENOTFOUND');
  });

  it('passes resolver failures through unchanged', async () => {
    const failure = Object.assign(new Error('getaddrinfo EAI_AGAIN flaky.example'), { code: 'EAI_AGAIN' });
    const lookup = createGuardedLookup({ resolve: () => Promise.reject(failure) });
    expect((await lookupOnce(lookup, 'flaky.example')).err).toBe(failure);
  });

  it('uses dns.lookup by default (localhost resolves to loopback and is blocked)', async () => {
    const { err } = await lookupOnce(createGuardedLookup(), 'localhost', { all: true });
    expect(err?.code).toBe(SSRF_BLOCKED);
  });
});

describe('guarded lookup in an undici Agent', () => {
  let server: Server;
  let port: number;
  const agents: Agent[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  });

  function agentFor(allowSubnets: string): Agent {
    // The name only exists in this fake DNS, so the test cannot reach anything real.
    const resolve: Resolver = async (hostname) => (hostname === 'receiver.hookline.test' ? [v4('127.0.0.1')] : []);
    const agent = new Agent({ connect: { lookup: createGuardedLookup({ resolve, allowSubnets: parseAllowSubnets(allowSubnets) }) } });
    agents.push(agent);
    return agent;
  }

  it('refuses to connect when the name resolves to loopback, naming the range but not the address', async () => {
    const attempt = request(`http://receiver.hookline.test:${port}/hook`, { method: 'POST', body: '{}', dispatcher: agentFor('') });
    await expect(attempt).rejects.toMatchObject({ code: SSRF_BLOCKED, address: '127.0.0.1', message: expect.stringContaining('blocked range (loopback') });
    await expect(request(`http://receiver.hookline.test:${port}/hook`, { method: 'POST', body: '{}', dispatcher: agentFor('') })).rejects.not.toMatchObject({ message: expect.stringContaining('127.0.0.1') });
  });

  it('connects to the checked address when 127.0.0.0/8 is allow-listed', async () => {
    const res = await request(`http://receiver.hookline.test:${port}/hook`, { method: 'POST', body: '{}', dispatcher: agentFor('127.0.0.0/8') });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('reached');
  });
});
