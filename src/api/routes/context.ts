/** What every resource router receives. */
import type { Application } from '../../domain/model';
import type { UrlPolicy } from '../../domain/url-rules';
import type { Store } from '../../store';
import type { Metrics } from '../../metrics';
import type { Dispatcher } from '../dispatcher';
import { ApiError } from '../errors';
import type { ApiRegistry } from '../openapi';

export interface RouteContext {
  store: Store;
  dispatcher: Dispatcher;
  metrics: Metrics;
  api: ApiRegistry;
  urlPolicy: UrlPolicy;
  limits: { maxPayloadBytes: number; maxEndpointsPerApp: number };
}

export async function findApp(store: Store, idOrUid: string): Promise<Application> {
  const app = await store.apps.get(idOrUid);
  if (!app) throw ApiError.notFound('application', idOrUid);
  return app;
}

/** A cursor is the id of the last item on the previous page; anything else is refused. */
export function checkCursor(cursor: string | undefined, prefix: string): string | undefined {
  if (cursor !== undefined && !cursor.startsWith(`${prefix}_`)) {
    throw new ApiError(400, 'invalid_request_error', 'invalid_cursor', 'The cursor is not one this list returned');
  }
  return cursor;
}
