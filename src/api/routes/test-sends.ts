/**
 * Test send (PRODUCT.md §5): `POST …/endpoints/{id}/test {event_type?}` delivers the event type's
 * example payload to this one endpoint now, as a delivery with one `test` attempt and no retries,
 * whatever the endpoint subscribes to. Without `event_type` it sends `hookline.test`.
 */
import { Router } from 'express';
import type { Json } from '../../domain/model';
import { ApiError, ErrorType } from '../errors';
import { DeliveryResponse, EndpointParams, TestSendBody } from '../schemas';
import { deliveryJson } from '../serialize';
import { findEndpoint, requireActive, type RouteContext } from './context';

export const TEST_EVENT_TYPE = 'hookline.test';
const TEST_EXAMPLE: Json = { message: 'A test event from Hookline' };

export function testSendsRouter({ store, dispatcher, api }: RouteContext): Router {
  const router = Router();

  api.route(
    router,
    {
      method: 'post',
      operationId: 'sendTestEvent',
      idempotent: true,
      path: '/v1/apps/:app/endpoints/:endpoint/test',
      summary: "Deliver an event type's example payload to this endpoint now (one `test` attempt, no retries)",
      tag: 'Endpoints',
      errors: [409],
      params: EndpointParams,
      body: TestSendBody,
      response: DeliveryResponse,
      status: 202,
    },
    async ({ params, body }) => {
      const { app, endpoint } = await findEndpoint(store, params);
      requireActive(endpoint, 'sending a test');
      let data = TEST_EXAMPLE;
      if (body.event_type !== undefined) {
        const type = await store.eventTypes.get(body.event_type);
        if (!type) throw ApiError.notFound('event_type', body.event_type, 'name');
        if (type.archived) throw new ApiError(409, ErrorType.conflict, 'event_type_archived', `The event type "${type.name}" is archived`);
        data = type.example;
      }
      const event = await store.events.insertTest(app.id, { type: body.event_type ?? TEST_EVENT_TYPE, data, endpointIds: [endpoint.id] });
      const [created] = await store.deliveries.createForEvent({ id: event.id, appId: app.id, type: event.type }, [{ id: endpoint.id, status: endpoint.status }], { test: true });
      const delivery = (await store.deliveries.byId(created!.id))!;
      try {
        await dispatcher.testSend(delivery);
      } catch {
        // The dispatcher has closed the delivery as not started (or logged why it could not).
        throw new ApiError(503, ErrorType.unavailable, 'temporal_unavailable', 'The test send could not be started; try again');
      }
      return deliveryJson(delivery);
    },
  );

  return router;
}
