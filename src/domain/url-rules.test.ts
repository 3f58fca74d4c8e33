import { describe, expect, it } from 'vitest';
import { parseAllowSubnets } from './address-rules';
import { checkEndpointUrl } from './url-rules';

describe('endpoint URL rules', () => {
  it.each([
    ['https://example.com/hook', false, true],
    ['http://example.com/hook', false, false],
    ['http://example.com/hook', true, true],
    ['ftp://example.com/', true, false],
    ['not a url', true, false],
    ['https://user:pass@example.com/', false, false],
    ['https://example.com/#frag', false, false],
    ['https://localhost/hook', false, false],
    ['https://api.localhost/hook', false, false],
    ['http://127.0.0.1:9000/hook', true, true],
    [`https://example.com/${'a'.repeat(2048)}`, false, false],
    // names are accepted without DNS, even ones that do not resolve today
    ['https://hooks.example.com:8443/in?x=1', false, true],
    ['https://does-not-resolve.invalid/hook', false, true],
    ['https://LOCALHOST/hook', false, false],
    ['https://localhost./hook', false, false],
    ['https://api.localhost./hook', false, false],
    ['https://foo.localhost../hook', false, false],
    ['https://notlocalhost.com/hook', false, true],
    ['https://localhost.example.com/hook', false, true],
    ['http://localhost:3000/hook', true, true],
    ['https://user@example.com/', true, false],
    // IPv4 literals
    ['https://8.8.8.8/hook', false, true],
    ['https://127.0.0.1/hook', false, false],
    ['https://127.0.0.1./hook', false, false],
    ['https://10.1.2.3/hook', false, false],
    ['https://172.16.0.1/hook', false, false],
    ['https://192.168.0.10/hook', false, false],
    ['https://169.254.169.254/latest/meta-data/', false, false],
    ['http://169.254.169.254/latest/meta-data/', true, false],
    ['https://100.64.0.1/hook', false, false],
    ['https://100.127.255.254/hook', false, false],
    ['https://0.0.0.0/hook', false, false],
    ['https://0/hook', false, false],
    ['https://224.0.0.1/hook', false, false],
    ['https://255.255.255.255/hook', false, false],
    ['https://192.0.2.1/hook', false, false],
    ['http://10.0.0.5:8080/hook', true, true],
    // unusual IPv4 spellings: WHATWG normalises them to 127.0.0.1, and that is what is judged
    ['http://2130706433/hook', false, false],
    ['http://0x7f.1/hook', false, false],
    ['http://0177.0.0.1/hook', false, false],
    ['http://127.1/hook', false, false],
    ['https://2130706433/hook', false, false],
    ['https://0x7f.1/hook', false, false],
    ['https://0x7fffffff/hook', false, false],
    ['https://134744072/hook', false, true], // 8.8.8.8
    ['https://999.1.1.1/hook', false, false], // not parseable
    // IPv6 literals
    ['http://[::ffff:127.0.0.1]/hook', false, false],
    ['https://[::ffff:127.0.0.1]/hook', false, false],
    ['https://[::ffff:a9fe:a9fe]/hook', false, false],
    ['https://[::127.0.0.1]/hook', false, false],
    ['https://[::1]/hook', false, false],
    ['https://[::]/hook', false, false],
    ['https://[fd00::1]/hook', false, false],
    ['https://[fd12:3456::1]/hook', false, false],
    ['https://[fd00:ec2::254]/hook', false, false],
    ['https://[fe80::1]/hook', false, false],
    ['https://[ff02::1]/hook', false, false],
    ['https://[64:ff9b::7f00:1]/hook', false, false],
    ['https://[2002:7f00:1::]/hook', false, false],
    ['https://[2001:0:4136:e378::1]/hook', false, false],
    ['https://[2001:db8::1]/hook', false, false],
    ['https://[2606:4700:4700::1111]/hook', false, true],
    ['https://[2001:4860:4860::8888]:8443/hook', false, true],
    ['https://[::ffff:8.8.8.8]/hook', false, true],
    ['https://[64:ff9b::808:808]/hook', false, true],
    ['http://[::1]:9000/hook', true, true],
    ['http://[fd00::1]/hook', true, true],
    ['http://[fd00:ec2::254]/hook', true, false],
    ['http://[::ffff:169.254.169.254]/hook', true, false],
    // ports
    ['https://example.com:0/hook', false, false],
    ['http://example.com:0/hook', true, false],
    ['https://example.com:65535/hook', false, true],
    ['https://example.com:65536/hook', false, false],
    ['https://example.com:443/hook', false, true],
    ['https://example.com:80/hook', false, true],
    ['https://example.com:8080/hook', false, true],
    ['https://example.com:25/hook', false, false],
    ['https://example.com:22/hook', false, false],
    ['https://example.com:6667/hook', false, false],
    ['http://example.com:25/hook', true, true],
  ])('%s (insecure allowed: %s) → %s', (url, allowInsecure, ok) => {
    expect(checkEndpointUrl(url, { allowInsecure }).ok).toBe(ok);
  });

  it('judges the WHATWG-normalised host, and says which range refused it', () => {
    for (const raw of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/']) {
      expect(new URL(raw).hostname).toBe('127.0.0.1');
      expect(checkEndpointUrl(raw, { allowInsecure: false })).toEqual({
        ok: false,
        reason: 'scheme must be https (http needs HOOKLINE_ALLOW_INSECURE_URLS)',
      });
      const https = raw.replace('http:', 'https:');
      expect(checkEndpointUrl(https, { allowInsecure: false })).toEqual({
        ok: false,
        reason: 'address 127.0.0.1 is not allowed (loopback 127.0.0.0/8)',
        blockedAddress: true,
      });
    }
    const mapped = checkEndpointUrl('https://[::ffff:127.0.0.1]/', { allowInsecure: false });
    expect(mapped.ok ? '' : mapped.reason).toBe('address ::ffff:7f00:1 is not allowed (loopback 127.0.0.0/8 via IPv4-mapped ::ffff:0:0/96)');
    const metadata = checkEndpointUrl('https://169.254.169.254/', { allowInsecure: false });
    expect(metadata.ok ? '' : metadata.reason).toContain('cloud-metadata');
    // Where it points, not its form: recorded as ssrf_blocked at send time.
    expect(checkEndpointUrl('https://localhost./', { allowInsecure: false })).toEqual({ ok: false, reason: 'localhost is not allowed', blockedAddress: true });
    expect(checkEndpointUrl('https://example.com:25/', { allowInsecure: false })).not.toHaveProperty('blockedAddress');
  });

  it('says what it expected of a URL it cannot take', () => {
    expect(checkEndpointUrl('ftp://example.com/', { allowInsecure: true })).toEqual({ ok: false, reason: 'scheme must be https or http' });
    expect(checkEndpointUrl('ftp://example.com/', { allowInsecure: false })).toEqual({ ok: false, reason: 'scheme must be https' });
    expect(checkEndpointUrl('http://127.0.0.1:99999/', { allowInsecure: true })).toEqual({ ok: false, reason: 'not a valid absolute URL (scheme, host, and a port of at most 65535)' });
  });

  it('lets operator allow-subnets override a blocked literal', () => {
    const allowSubnets = parseAllowSubnets('10.20.0.0/16,fd00:1::/32,100.64.0.0/10');
    const check = (url: string) => checkEndpointUrl(url, { allowInsecure: false, allowSubnets }).ok;
    expect(check('https://10.20.1.2/hook')).toBe(true);
    expect(check('https://[::ffff:10.20.1.2]/hook')).toBe(true);
    expect(check('https://10.21.1.2/hook')).toBe(false);
    expect(check('https://[fd00:1::5]/hook')).toBe(true);
    expect(check('https://[fd00:2::5]/hook')).toBe(false);
    expect(check('https://100.64.3.4/hook')).toBe(true);
    expect(check('https://127.0.0.1/hook')).toBe(false);
    // an allow-subnet opens addresses, not schemes or names
    expect(check('http://10.20.1.2/hook')).toBe(false);
    expect(check('https://localhost/hook')).toBe(false);
  });

  it('keeps the parsed URL on success', () => {
    const verdict = checkEndpointUrl('https://Example.COM:8443/a?b=c', { allowInsecure: false });
    expect(verdict.ok && verdict.url.href).toBe('https://example.com:8443/a?b=c');
  });
});
