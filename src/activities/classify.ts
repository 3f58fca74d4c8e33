/**
 * Maps a failed request to the attempt error codes of PRODUCT.md §2. Node and undici report the
 * cause as an error code, sometimes on a nested `cause`; the first code that maps wins.
 */
import { AttemptErrorCode } from '../domain/model';

const BY_CODE: Record<string, AttemptErrorCode> = {
  SSRF_BLOCKED: AttemptErrorCode.ssrfBlocked,
  ECONNREFUSED: AttemptErrorCode.connectionRefused,
  ENOTFOUND: AttemptErrorCode.dns,
  EAI_AGAIN: AttemptErrorCode.dns,
  EAI_FAIL: AttemptErrorCode.dns,
  EAI_NONAME: AttemptErrorCode.dns,
  ECONNRESET: AttemptErrorCode.reset,
  EPIPE: AttemptErrorCode.reset,
  UND_ERR_SOCKET: AttemptErrorCode.reset,
  UND_ERR_CLOSED: AttemptErrorCode.reset,
  ETIMEDOUT: AttemptErrorCode.timeout,
  UND_ERR_CONNECT_TIMEOUT: AttemptErrorCode.timeout,
  UND_ERR_HEADERS_TIMEOUT: AttemptErrorCode.timeout,
  UND_ERR_BODY_TIMEOUT: AttemptErrorCode.timeout,
  UND_ERR_ABORTED: AttemptErrorCode.timeout,
  DEPTH_ZERO_SELF_SIGNED_CERT: AttemptErrorCode.tls,
  SELF_SIGNED_CERT_IN_CHAIN: AttemptErrorCode.tls,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: AttemptErrorCode.tls,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: AttemptErrorCode.tls,
  CERT_HAS_EXPIRED: AttemptErrorCode.tls,
  ERR_TLS_CERT_ALTNAME_INVALID: AttemptErrorCode.tls,
  ERR_SSL_WRONG_VERSION_NUMBER: AttemptErrorCode.tls,
};

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  message?: unknown;
}

export function classifyRequestError(err: unknown): AttemptErrorCode {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike | undefined, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return AttemptErrorCode.timeout;
    if (typeof e.code === 'string') {
      const mapped = BY_CODE[e.code];
      if (mapped) return mapped;
      if (e.code.startsWith('ERR_TLS') || e.code.startsWith('ERR_SSL') || e.code.includes('CERT')) return AttemptErrorCode.tls;
    }
  }
  return AttemptErrorCode.network;
}

/** A short message safe to store and show: the error's own text, never request data. */
export function describeRequestError(err: unknown): string {
  const e = err as ErrorLike;
  const cause = e?.cause as ErrorLike | undefined;
  const parts = [e?.message, cause?.message].filter((m): m is string => typeof m === 'string' && m.length > 0);
  return parts.join(': ').slice(0, 500) || 'request failed';
}
