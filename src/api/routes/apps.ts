import { Router } from 'express';
import { PayloadFormat } from '../../domain/envelope';
import { DEFAULT_SCHEDULE } from '../../domain/schedule';
import { OPERATOR_APP_UID } from '../../domain/ids';
import { principalOf } from '../auth';
import { ApiError, ErrorType } from '../errors';
import { AppParams, AppResponse, CreateAppBody, PageQuery, pageOf, RESERVED_UID_MESSAGE, UpdateAppBody } from '../schemas';
import { appJson, page } from '../serialize';
import { checkCursor, findApp, operatorAppKept, type RouteContext } from './context';

export function appsRouter({ store, api, dispatcher }: RouteContext): Router {
  const router = Router();
  const tag = 'Applications';

  api.route(router, { method: 'post', operationId: 'createApp', idempotent: true, path: '/v1/apps', summary: 'Create an application', tag, errors: [409], auth: 'admin', body: CreateAppBody, response: AppResponse, status: 201 }, async ({ body }) => {
    const app = await store.apps.create({
      name: body.name,
      uid: body.uid ?? null,
      retrySchedule: body.retry_schedule ?? DEFAULT_SCHEDULE,
      payloadFormat: body.payload_format ?? PayloadFormat.envelope,
      disablePolicy: body.disable_policy ?? null,
      metadata: body.metadata ?? {},
    });
    return appJson(app);
  });

  api.route(router, { method: 'get', operationId: 'listApps', path: '/v1/apps', summary: 'List applications, newest first', tag, auth: 'admin', query: PageQuery, response: pageOf(AppResponse, 'ApplicationList') }, async ({ query }) =>
    page(await store.apps.list({ limit: query.limit, cursor: checkCursor(query.cursor, 'app') }), appJson),
  );

  api.route(router, { method: 'get', operationId: 'getApp', path: '/v1/apps/:app', summary: 'Get an application by id or uid', tag, params: AppParams, response: AppResponse }, async ({ params }) =>
    appJson(await findApp(store, params.app)),
  );

  api.route(router, { method: 'patch', operationId: 'updateApp', path: '/v1/apps/:app', summary: 'Update an application', tag, errors: [403, 409], params: AppParams, body: UpdateAppBody, response: AppResponse }, async ({ params, body, res }) => {
    const app = await findApp(store, params.app);
    // uids are unique across applications: a key that could set one could learn other tenants'
    // uids from the 409, or take one a producer is about to use.
    if (body.uid !== undefined && body.uid !== app.uid) {
      if (principalOf(res).kind !== 'admin') throw new ApiError(403, ErrorType.permission, 'admin_key_required', "Changing an application's uid needs the admin key");
      if (body.uid === OPERATOR_APP_UID) throw ApiError.validation('The request body is not valid', [{ path: 'uid', message: RESERVED_UID_MESSAGE }]);
      if (app.uid === OPERATOR_APP_UID) throw operatorAppKept('renamed');
    }
    const updated = await store.apps.update(app.id, {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.uid !== undefined && { uid: body.uid }),
      ...(body.retry_schedule !== undefined && { retrySchedule: body.retry_schedule }),
      ...(body.payload_format !== undefined && { payloadFormat: body.payload_format }),
      ...(body.disable_policy !== undefined && { disablePolicy: body.disable_policy }),
      ...(body.metadata !== undefined && { metadata: body.metadata }),
    });
    if (!updated) throw ApiError.applicationNotFound(params.app);
    return appJson(updated);
  });

  api.route(router, { method: 'delete', operationId: 'deleteApp', path: '/v1/apps/:app', summary: 'Delete an application and everything it owns', tag, errors: [409], auth: 'admin', params: AppParams, status: 204 }, async ({ params }) => {
    const app = await findApp(store, params.app);
    if (app.uid === OPERATOR_APP_UID) throw operatorAppKept('deleted');
    const endpointIds = await store.apps.delete(app.id);
    if (endpointIds) dispatcher.endpointsDeleted({ appId: app.id, endpointIds });
    return undefined;
  });

  return router;
}
