/**
 * Endpoint URL rules checked on create/update and again before each send. This is the first
 * cut: scheme, credentials, length and port; the private-address rules come with the SSRF guard.
 */
export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  allowInsecure: boolean;
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export function checkEndpointUrl(raw: string, policy: UrlPolicy): UrlVerdict {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `URL is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'scheme must be https' };
  if (url.protocol === 'http:' && !policy.allowInsecure) {
    return { ok: false, reason: 'scheme must be https (http needs HOOKLINE_ALLOW_INSECURE_URLS)' };
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed; use a custom header' };
  if (url.hash) return { ok: false, reason: 'fragments are not allowed' };
  const host = url.hostname.toLowerCase();
  if (!policy.allowInsecure && (host === 'localhost' || host.endsWith('.localhost'))) {
    return { ok: false, reason: 'localhost is not allowed' };
  }
  return { ok: true, url };
}
