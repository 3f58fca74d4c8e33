/**
 * The bench's client for Hookline's HTTP API: an undici Pool with keep-alive, because global
 * `fetch` tops out near 1,000 requests/s on this machine and would measure itself, not the API.
 * Every call resolves (never throws) with status, time and body, so load loops can tally errors.
 */
import { Pool } from 'undici';

export interface ApiResult {
  /** HTTP status, or 0 when no response came (the error says why). */
  status: number;
  ms: number;
  json: unknown;
  error: string | null;
}

export interface ApiClient {
  request(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<ApiResult>;
  /** POST that must succeed; returns the created resource's id. */
  create(path: string, body: unknown): Promise<string>;
  postEvent(appId: string, type: string, data: unknown, extraHeaders?: Record<string, string>): Promise<ApiResult>;
  close(): Promise<void>;
}

export function idOf(json: unknown): string | undefined {
  if (typeof json === 'object' && json !== null && 'id' in json && typeof json.id === 'string') return json.id;
  return undefined;
}

/** `connections` bounds sockets; overload tests need many so requests queue at the server, not here. */
export function apiClient(baseUrl: string, key: string, connections = 64): ApiClient {
  const pool = new Pool(baseUrl, { connections, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  async function request(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResult> {
    const started = performance.now();
    try {
      const res = await pool.request({ method, path, headers: { ...headers, ...extraHeaders }, ...(body !== undefined && { body: JSON.stringify(body) }) });
      const text = await res.body.text();
      let json: unknown = null;
      try {
        json = text ? (JSON.parse(text) as unknown) : null;
      } catch {
        json = text;
      }
      return { status: res.statusCode, ms: performance.now() - started, json, error: null };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { status: 0, ms: performance.now() - started, json: null, error: typeof code === 'string' ? code : String(err) };
    }
  }

  return {
    request,
    async create(path, body) {
      const res = await request('POST', path, body);
      const id = idOf(res.json);
      if (res.status >= 300 || !id) throw new Error(`POST ${path}: ${res.status} ${res.error ?? JSON.stringify(res.json)}`);
      return id;
    },
    postEvent: (appId, type, data, extraHeaders) => request('POST', `/v1/apps/${appId}/events`, { type, data }, extraHeaders),
    close: () => pool.close(),
  };
}
