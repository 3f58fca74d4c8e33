/** What every resource router receives. */
import type { Application, Endpoint } from '../../domain/model';
import type { UrlPolicy } from '../../domain/url-rules';
import type { Store } from '../../store';
import type { CreatedRange } from '../../store/page';
import { isId, type IdPrefix } from '../../domain/ids';
import type { Metrics } from '../../metrics';
import type { Dispatcher } from '../dispatcher';
import { ApiError, ErrorType } from '../errors';
import type { EventSchemas } from '../event-schemas';
import type { SchemaChecker } from '../schema-checker';
import type { ApiRegistry } from '../openapi';

export interface RouteContext {
  store: Store;
  dispatcher: Dispatcher;
  metrics: Metrics;
  api: ApiRegistry;
  urlPolicy: UrlPolicy;
  limits: { maxPayloadBytes: number; maxEndpointsPerApp: number };
  eventSchemas: EventSchemas;
  /** Runs schema checks off the event loop, within a budget (event-type creates and updates). */
  schemaChecker: Pick<SchemaChecker, 'vet'>;
}

/**
 * The operational-events application is found by its uid: renamed or deleted, workers could not
 * record an operational event (a disable, an exhausted delivery), and what raised it would fail.
 * It takes no application keys either: its events name every tenant's ids and URLs, which only the
 * admin key may read.
 */
export const operatorAppKept = (what: 'renamed' | 'deleted' | 'given application keys') =>
  new ApiError(409, ErrorType.conflict, 'operator_application', `Hookline's operational-events application cannot be ${what}; to stop operational events, unset HOOKLINE_OPERATOR_WEBHOOK_URL (disabling its endpoint lasts only until the next start, which enables it again)`);

export async function findApp(store: Store, idOrUid: string): Promise<Application> {
  const app = await store.apps.get(idOrUid);
  if (!app) throw ApiError.applicationNotFound(idOrUid);
  return app;
}

/** The application and its endpoint (each by id or uid), or 404 for either. */
export async function findEndpoint(store: Store, params: { app: string; endpoint: string }): Promise<{ app: Application; endpoint: Endpoint }> {
  const app = await findApp(store, params.app);
  const endpoint = await store.endpoints.get(app.id, params.endpoint);
  if (!endpoint) throw ApiError.endpointNotFound(params.endpoint);
  return { app, endpoint };
}

/** 409 for an action that would only fail against a disabled endpoint (a test send, a recovery). */
export function requireActive(endpoint: Endpoint, action: string): void {
  if (endpoint.status !== 'active') throw new ApiError(409, ErrorType.conflict, 'endpoint_disabled', `The endpoint is disabled; enable it before ${action}`);
}

/** The `since`/`until` list filters as the store takes them; `until` before `since` is a 400. */
export function createdRange(query: { since?: string | undefined; until?: string | undefined }): CreatedRange {
  const since = query.since === undefined ? undefined : new Date(query.since);
  const until = query.until === undefined ? undefined : new Date(query.until);
  if (since && until && until < since) throw new ApiError(400, ErrorType.invalidRequest, 'invalid_time_range', '`until` is before `since`');
  return { since, until };
}

/**
 * A cursor is the key of the last item on the previous page: an id with this prefix, or what the
 * predicate accepts (an event type's name); anything else is refused.
 */
export function checkCursor(cursor: string | undefined, key: IdPrefix | ((cursor: string) => boolean)): string | undefined {
  if (cursor !== undefined && !(typeof key === 'function' ? key(cursor) : isId(key, cursor))) {
    throw new ApiError(400, 'invalid_request_error', 'invalid_cursor', 'The cursor is not one this list returned');
  }
  return cursor;
}
