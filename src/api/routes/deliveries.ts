import { Router } from 'express';
import { IdPrefix } from '../../domain/ids';
import type { DeliveryFilter } from '../../store/deliveries';
import type { z } from '../zod';
import { ApiError, ErrorType } from '../errors';
import { AppParams, ATTEMPTS_SHOWN, DeliveryListQuery, DeliveryParams, DeliveryResponse, EndpointParams, EventParams, pageOf } from '../schemas';
import { deliveryJson, page } from '../serialize';
import { checkCursor, createdRange, findApp, findEndpoint, requireActive, type RouteContext } from './context';

/** The three delivery lists take the same query; a path's event or endpoint narrows it further. */
function filterOf(query: Omit<z.output<typeof DeliveryListQuery>, 'endpoint_id'> & { endpoint_id?: string | undefined }): DeliveryFilter {
  return { limit: query.limit, cursor: checkCursor(query.cursor, IdPrefix.delivery), status: query.status, endpointId: query.endpoint_id, eventType: query.event_type, ...createdRange(query) };
}

export function deliveriesRouter({ store, api, dispatcher }: RouteContext): Router {
  const router = Router();
  const tag = 'Deliveries';
  const list = pageOf(DeliveryResponse, 'DeliveryList');

  api.route(
    router,
    { method: 'get', operationId: 'listDeliveries', path: '/v1/apps/:app/deliveries', summary: 'List deliveries, newest first, by status, endpoint, event type and time', tag, params: AppParams, query: DeliveryListQuery, response: list },
    async ({ params, query }) => {
      const app = await findApp(store, params.app);
      return page(await store.deliveries.list(app.id, filterOf(query)), (d) => deliveryJson(d));
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'listEventDeliveries', path: '/v1/apps/:app/events/:event/deliveries', summary: "List an event's deliveries", tag, params: EventParams, query: DeliveryListQuery, response: list },
    async ({ params, query }) => {
      const app = await findApp(store, params.app);
      if (!(await store.events.get(app.id, params.event))) throw ApiError.notFound('event', params.event);
      return page(await store.deliveries.list(app.id, { ...filterOf(query), eventId: params.event }), (d) => deliveryJson(d));
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'listEndpointDeliveries', path: '/v1/apps/:app/endpoints/:endpoint/deliveries', summary: "List an endpoint's deliveries", tag, params: EndpointParams, query: DeliveryListQuery.omit({ endpoint_id: true }), response: list },
    async ({ params, query }) => {
      const { app, endpoint } = await findEndpoint(store, params);
      return page(await store.deliveries.list(app.id, { ...filterOf(query), endpointId: endpoint.id }), (d) => deliveryJson(d));
    },
  );

  api.route(router, { method: 'get', operationId: 'getDelivery', path: '/v1/apps/:app/deliveries/:delivery', summary: `Get a delivery with its newest ${ATTEMPTS_SHOWN} attempts, newest first`, tag, params: DeliveryParams, response: DeliveryResponse }, async ({ params }) => {
    const app = await findApp(store, params.app);
    const delivery = await store.deliveries.get(app.id, params.delivery);
    if (!delivery) throw ApiError.notFound('delivery', params.delivery);
    return deliveryJson(delivery, await store.deliveries.attempts(delivery.id, ATTEMPTS_SHOWN));
  });

  api.route(
    router,
    {
      method: 'post',
      operationId: 'resendDelivery',
      idempotent: true,
      path: '/v1/apps/:app/deliveries/:delivery/resend',
      summary: 'Attempt now: a waiting delivery skips its wait; a finished one makes one manual attempt',
      tag,
      errors: [409],
      params: DeliveryParams,
      response: DeliveryResponse,
      status: 202,
    },
    async ({ params }) => {
      const app = await findApp(store, params.app);
      const delivery = await store.deliveries.get(app.id, params.delivery);
      if (!delivery) throw ApiError.notFound('delivery', params.delivery);
      // As for a test send or a recovery: the attempt would only end the delivery `failed`.
      const endpoint = await store.endpoints.get(app.id, delivery.endpointId);
      if (!endpoint) throw ApiError.notFound('endpoint', delivery.endpointId);
      requireActive(endpoint, 'resending to it');
      try {
        await dispatcher.resend(delivery);
      } catch {
        throw new ApiError(503, ErrorType.unavailable, 'temporal_unavailable', 'The resend could not be scheduled; try again');
      }
      // Temporal has the resend: answer 202 whatever the re-read does (a retry would resend twice).
      return deliveryJson((await store.deliveries.get(app.id, delivery.id).catch(() => undefined)) ?? delivery);
    },
  );

  return router;
}
