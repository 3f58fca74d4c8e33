/**
 * The producer's client (PRODUCT.md §9): Hookline's REST API as typed calls, on global `fetch`.
 *
 * Like Stripe's and Svix's clients it retries what the server did not process (429 and 503, after
 * their Retry-After), and network failures, 502, 503 and 504 of requests that are safe to repeat: GETs, and the POSTs
 * that create or send, which always carry an idempotency key (a random one unless the caller gives
 * their own), so a retry can never create a second event, endpoint or key, or send twice. Errors
 * throw `HooklineApiError` with the API's `{type, code, message}`, or with `code` `http_<status>`
 * when the answer is not the API's JSON (a proxy's error page).
 *
 * Response types come from the API's own zod schemas, as types only: nothing of the server is
 * loaded at run time.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  AppResponse,
  CreateAppBody,
  CreateEndpointBody,
  CreateEventBody,
  CreateEventTypeBody,
  CreateKeyBody,
  DeliveryResponse,
  EndpointResponse,
  EndpointStatsResponse,
  EventResponse,
  EventTypeResponse,
  KeyResponse,
  PutEndpointBody,
  RecoverBody,
  RecoveryResponse,
  UpdateAppBody,
  UpdateEndpointBody,
  UpdateEventTypeBody,
} from '../api/schemas';

export type Application = z.output<typeof AppResponse>;
export type Endpoint = z.output<typeof EndpointResponse>;
export type WebhookEvent = z.output<typeof EventResponse>;
export type Delivery = z.output<typeof DeliveryResponse>;
export type EventType = z.output<typeof EventTypeResponse>;
export type Recovery = z.output<typeof RecoveryResponse>;
export type EndpointStats = z.output<typeof EndpointStatsResponse>;
export type ApiKey = z.output<typeof KeyResponse>;
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}
export interface ListOptions {
  limit?: number;
  cursor?: string;
  [filter: string]: string | number | boolean | undefined;
}

export interface HooklineClientOptions {
  /** Where the API listens, such as `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** The admin key or an application key. */
  apiKey: string;
  /** Retries after 429, 503 (or 502, 504 or a network failure of a repeatable request); default 2. */
  maxRetries?: number;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export class HooklineApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HooklineApiError';
  }
}

const RETRY_AFTER_CAP_MS = 30_000;
/** Statuses a request may be retried after (see `call`): 429 and 503 from the API, 502 and 504 from a proxy. */
const RETRIED_STATUSES = new Set([429, 502, 503, 504]);

/** The body as JSON (an empty body is undefined), or not ok when it is not JSON. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (!text) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
/** Waits for a first try of the same Idempotency-Key that still runs: about as long as the server gives it (2 minutes). */
const MAX_IN_USE_WAITS = 120;

/**
 * Every POST that creates or sends carries an idempotency key, the caller's or a random one: a
 * retry after a lost answer then gets that answer, not a second resource or send.
 */
export interface Keyed {
  idempotencyKey?: string;
}
const keyOf = (opts: Keyed): string => opts.idempotencyKey || randomUUID();

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  query?: ListOptions | undefined;
  idempotencyKey?: string;
}

export function createHooklineClient(options: HooklineClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxRetries = options.maxRetries ?? 2;

  async function call<T>(c: Call): Promise<T> {
    const url = new URL(base + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}` };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    if (c.idempotencyKey) headers['idempotency-key'] = c.idempotencyKey;
    // A PUT by uid that names its secret is idempotent: a repeat finds the endpoint the first one
    // created. Without one, the generated secret is only in the first answer: not retried.
    const repeatable = c.method === 'GET' || Boolean(c.idempotencyKey) || (c.method === 'PUT' && (c.body as { secret?: string } | undefined)?.secret !== undefined);
    let inUseWaits = 0;
    // Retries spent; waits on a key still in use are counted apart (inUseWaits).
    let retries = 0;
    for (;;) {
      let res: Response;
      try {
        res = await fetch(url, { method: c.method, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body), signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
      } catch (err) {
        if (!repeatable || retries >= maxRetries) throw err;
        await pause(backoffMs(retries++));
        continue;
      }
      // A 429 and the shedder's 503 (`overloaded`) processed nothing; another 503, or a 502 or 504
      // from a proxy in front of the API, may have, so only a repeatable request retries those.
      if (RETRIED_STATUSES.has(res.status) && retries < maxRetries && (repeatable || res.status === 429 || (res.status === 503 && (await isOverloaded(res.clone()))))) {
        await res.arrayBuffer();
        const backoff = backoffMs(retries++);
        await pause(retryAfterMs(res.headers.get('retry-after')) ?? backoff);
        continue;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        // The body broke off (a connection cut mid-answer): the answer is lost, as with a network
        // failure, and only a repeatable request may ask again.
        if (repeatable && retries < maxRetries) {
          await pause(backoffMs(retries++));
          continue;
        }
        throw new HooklineApiError(res.status, 'api_error', 'invalid_response', `HTTP ${res.status} whose body broke off: ${err instanceof Error ? err.message : String(err)}`);
      }
      const json = parseJson(text);
      if (res.ok && json.ok) return json.value as T;
      // Not the API's answer: a proxy's error page, or a cut-off body. The status is kept.
      if (!json.ok) throw new HooklineApiError(res.status, 'api_error', res.ok ? 'invalid_response' : `http_${res.status}`, `HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
      const e = (json.value as { error?: { type?: string; code?: string; message?: string; details?: unknown } } | undefined)?.error;
      // A retry that found its first try still running (it timed out here, not there): its answer
      // comes soon. These waits have a budget of their own; they do not count as retries.
      if (res.status === 409 && e?.code === 'idempotency_key_in_use' && inUseWaits < MAX_IN_USE_WAITS) {
        inUseWaits += 1;
        await pause(retryAfterMs(res.headers.get('retry-after')) ?? 1_000);
        continue;
      }
      throw new HooklineApiError(res.status, e?.type ?? 'api_error', e?.code ?? `http_${res.status}`, e?.message ?? res.statusText, e?.details);
    }
  }

  const app = (id: string) => `/v1/apps/${encodeURIComponent(id)}`;
  const endpoint = (appId: string, id: string) => `${app(appId)}/endpoints/${encodeURIComponent(id)}`;

  return {
    apps: {
      create: (body: z.input<typeof CreateAppBody>, opts: Keyed = {}) => call<Application>({ method: 'POST', path: '/v1/apps', body, idempotencyKey: keyOf(opts) }),
      get: (idOrUid: string) => call<Application>({ method: 'GET', path: app(idOrUid) }),
      list: (query?: ListOptions) => call<Page<Application>>({ method: 'GET', path: '/v1/apps', query }),
      update: (idOrUid: string, body: z.input<typeof UpdateAppBody>) => call<Application>({ method: 'PATCH', path: app(idOrUid), body }),
      delete: (idOrUid: string) => call<void>({ method: 'DELETE', path: app(idOrUid) }),
    },
    /** Application keys (admin key only). */
    keys: {
      /** The answer carries `key` once. */
      create: (appId: string, body: z.input<typeof CreateKeyBody> = {}, opts: Keyed = {}) => call<ApiKey>({ method: 'POST', path: `${app(appId)}/keys`, body, idempotencyKey: keyOf(opts) }),
      list: (appId: string, query?: ListOptions) => call<Page<ApiKey>>({ method: 'GET', path: `${app(appId)}/keys`, query }),
      revoke: (appId: string, id: string) => call<ApiKey>({ method: 'DELETE', path: `${app(appId)}/keys/${encodeURIComponent(id)}` }),
    },
    /** Every `appId` may be the application's uid, and every endpoint `id` the endpoint's uid. */
    endpoints: {
      /** The answer carries `secret` once. */
      create: (appId: string, body: z.input<typeof CreateEndpointBody>, opts: Keyed = {}) => call<Endpoint>({ method: 'POST', path: `${app(appId)}/endpoints`, body, idempotencyKey: keyOf(opts) }),
      /**
       * Creates the endpoint with this uid (the answer carries a generated `secret` once) or
       * updates it. Retried after a network failure only when `secret` is given: otherwise a lost
       * answer would lose the generated secret (rotate to get a new one).
       */
      putByUid: (appId: string, uid: string, body: z.input<typeof PutEndpointBody>) =>
        call<Endpoint>({ method: 'PUT', path: `${app(appId)}/endpoints/by-uid/${encodeURIComponent(uid)}`, body }),
      get: (appId: string, id: string) => call<Endpoint>({ method: 'GET', path: endpoint(appId, id) }),
      list: (appId: string, query?: ListOptions) => call<Page<Endpoint>>({ method: 'GET', path: `${app(appId)}/endpoints`, query }),
      update: (appId: string, id: string, body: z.input<typeof UpdateEndpointBody>) => call<Endpoint>({ method: 'PATCH', path: endpoint(appId, id), body }),
      delete: (appId: string, id: string) => call<void>({ method: 'DELETE', path: endpoint(appId, id) }),
      disable: (appId: string, id: string, reason?: string) => call<Endpoint>({ method: 'POST', path: `${endpoint(appId, id)}/disable`, body: reason === undefined ? {} : { reason } }),
      enable: (appId: string, id: string) => call<Endpoint>({ method: 'POST', path: `${endpoint(appId, id)}/enable` }),
      rotateSecret: (appId: string, id: string, body: { secret?: string; grace_period_s?: number } = {}, opts: Keyed = {}) =>
        call<{ secret: string; previous_secret_expires_at: string }>({ method: 'POST', path: `${endpoint(appId, id)}/secret/rotate`, body, idempotencyKey: keyOf(opts) }),
      stats: (appId: string, id: string) => call<EndpointStats>({ method: 'GET', path: `${endpoint(appId, id)}/stats` }),
      deliveries: (appId: string, id: string, query?: ListOptions) => call<Page<Delivery>>({ method: 'GET', path: `${endpoint(appId, id)}/deliveries`, query }),
      test: (appId: string, id: string, eventType?: string, opts: Keyed = {}) =>
        call<Delivery>({ method: 'POST', path: `${endpoint(appId, id)}/test`, body: eventType === undefined ? {} : { event_type: eventType }, idempotencyKey: keyOf(opts) }),
      recover: (appId: string, id: string, body: z.input<typeof RecoverBody>, opts: Keyed = {}) => call<Recovery>({ method: 'POST', path: `${endpoint(appId, id)}/recover`, body, idempotencyKey: keyOf(opts) }),
      recovery: (appId: string, id: string, recoveryId: string) => call<Recovery>({ method: 'GET', path: `${endpoint(appId, id)}/recoveries/${encodeURIComponent(recoveryId)}` }),
    },
    events: {
      /** Retried safely: the idempotency key (yours, or a random one) makes a repeat return the first event. */
      send: (appId: string, event: z.input<typeof CreateEventBody>, opts: Keyed = {}) => call<WebhookEvent>({ method: 'POST', path: `${app(appId)}/events`, body: event, idempotencyKey: keyOf(opts) }),
      get: (appId: string, id: string) => call<WebhookEvent>({ method: 'GET', path: `${app(appId)}/events/${encodeURIComponent(id)}` }),
      list: (appId: string, query?: ListOptions) => call<Page<WebhookEvent>>({ method: 'GET', path: `${app(appId)}/events`, query }),
      deliveries: (appId: string, id: string, query?: ListOptions) => call<Page<Delivery>>({ method: 'GET', path: `${app(appId)}/events/${encodeURIComponent(id)}/deliveries`, query }),
    },
    deliveries: {
      /** With its attempts, newest first. */
      get: (appId: string, id: string) => call<Delivery>({ method: 'GET', path: `${app(appId)}/deliveries/${encodeURIComponent(id)}` }),
      list: (appId: string, query?: ListOptions) => call<Page<Delivery>>({ method: 'GET', path: `${app(appId)}/deliveries`, query }),
      resend: (appId: string, id: string, opts: Keyed = {}) => call<Delivery>({ method: 'POST', path: `${app(appId)}/deliveries/${encodeURIComponent(id)}/resend`, idempotencyKey: keyOf(opts) }),
    },
    eventTypes: {
      create: (body: z.input<typeof CreateEventTypeBody>, opts: Keyed = {}) => call<EventType>({ method: 'POST', path: '/v1/event-types', body, idempotencyKey: keyOf(opts) }),
      get: (name: string) => call<EventType>({ method: 'GET', path: `/v1/event-types/${encodeURIComponent(name)}` }),
      list: (query?: ListOptions) => call<Page<EventType>>({ method: 'GET', path: '/v1/event-types', query }),
      update: (name: string, body: z.input<typeof UpdateEventTypeBody>) => call<EventType>({ method: 'PATCH', path: `/v1/event-types/${encodeURIComponent(name)}`, body }),
    },
  };
}

export type HooklineClient = ReturnType<typeof createHooklineClient>;

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS) : undefined;
}

async function isOverloaded(res: Response): Promise<boolean> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return body?.error?.code === 'overloaded';
}

const backoffMs = (attempt: number) => Math.min(250 * 2 ** attempt, RETRY_AFTER_CAP_MS) * (0.5 + Math.random() / 2);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
