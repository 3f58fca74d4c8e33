import { Router } from 'express';
import { IdPrefix } from '../../domain/ids';
import { generateAppKey } from '../../domain/keys';
import { OPERATOR_APP_UID } from '../../domain/ids';
import type { ApiKey } from '../../store/keys';
import { ApiError } from '../errors';
import { AppParams, CreateKeyBody, KeyParams, KeyResponse, PageQuery, pageOf } from '../schemas';
import { page } from '../serialize';
import { checkCursor, findApp, operatorAppKept, type RouteContext } from './context';


const keyJson = (k: ApiKey) => ({
  id: k.id,
  app_id: k.appId,
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
});

export function keysRouter({ store, api }: RouteContext): Router {
  const router = Router();
  const tag = 'Keys';

  api.route(
    router,
    { method: 'post', operationId: 'createAppKey', idempotent: true, path: '/v1/apps/:app/keys', summary: 'Create an application key; the response carries it once', tag, auth: 'admin', params: AppParams, body: CreateKeyBody, response: KeyResponse, status: 201 },
    async ({ params, body }) => {
      const app = await findApp(store, params.app);
      if (app.uid === OPERATOR_APP_UID) throw operatorAppKept('given application keys');
      const key = generateAppKey();
      return { ...keyJson(await store.keys.create(app.id, key, body.name ?? '')), key };
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'listAppKeys', path: '/v1/apps/:app/keys', summary: 'List application keys (prefix and metadata only)', tag, auth: 'admin', params: AppParams, query: PageQuery, response: pageOf(KeyResponse, 'ApiKeyList') },
    async ({ params, query }) => {
      const app = await findApp(store, params.app);
      return page(await store.keys.list(app.id, { limit: query.limit, cursor: checkCursor(query.cursor, IdPrefix.key) }), keyJson);
    },
  );

  api.route(router, { method: 'delete', operationId: 'revokeAppKey', path: '/v1/apps/:app/keys/:key', summary: 'Revoke an application key', tag, auth: 'admin', params: KeyParams, response: KeyResponse }, async ({ params }) => {
    const app = await findApp(store, params.app);
    const revoked = await store.keys.revoke(app.id, params.key);
    if (!revoked) throw ApiError.notFound('key', params.key);
    return keyJson(revoked);
  });

  return router;
}
