/**
 * The event-type catalog (PRODUCT.md §6): the admin key manages it, any key reads it. Each type
 * carries an example payload, which `POST …/endpoints/{id}/test` delivers.
 */
import { Router } from 'express';
import type { Json } from '../../domain/model';
import type { EventType } from '../../store/event-types';
import { ApiError } from '../errors';
import { CreateEventTypeBody, EventTypeListQuery, EventTypeParams, EventTypeResponse, pageOf, UpdateEventTypeBody } from '../schemas';
import { page } from '../serialize';
import type { RouteContext } from './context';

export function eventTypeJson(t: EventType) {
  return { name: t.name, description: t.description, example: t.example, archived: t.archived, created_at: t.createdAt.toISOString(), updated_at: t.updatedAt.toISOString() };
}

export function eventTypesRouter({ store, api }: RouteContext): Router {
  const router = Router();
  const tag = 'Event types';

  api.route(router, { method: 'post', path: '/v1/event-types', summary: 'Add an event type to the catalog', tag, auth: 'admin', body: CreateEventTypeBody, response: EventTypeResponse, status: 201 }, async ({ body }) =>
    eventTypeJson(await store.eventTypes.create({ name: body.name, description: body.description ?? '', example: (body.example ?? {}) as Json })),
  );

  api.route(router, { method: 'get', path: '/v1/event-types', summary: 'List event types by name; archived ones with include_archived=true', tag, query: EventTypeListQuery, response: pageOf(EventTypeResponse, 'EventTypeList') }, async ({ query }) =>
    page(await store.eventTypes.list({ limit: query.limit, cursor: query.cursor, includeArchived: query.include_archived === 'true' }), eventTypeJson),
  );

  api.route(router, { method: 'get', path: '/v1/event-types/:name', summary: 'Get an event type', tag, params: EventTypeParams, response: EventTypeResponse }, async ({ params }) => {
    const found = await store.eventTypes.get(params.name);
    if (!found) throw ApiError.notFound('event_type', params.name);
    return eventTypeJson(found);
  });

  api.route(
    router,
    { method: 'patch', path: '/v1/event-types/:name', summary: 'Update an event type: description, example, or archive it', tag, auth: 'admin', params: EventTypeParams, body: UpdateEventTypeBody, response: EventTypeResponse },
    async ({ params, body }) => {
      const updated = await store.eventTypes.update(params.name, {
        ...(body.description !== undefined && { description: body.description }),
        ...(body.example !== undefined && { example: body.example as Json }),
        ...(body.archived !== undefined && { archived: body.archived }),
      });
      if (!updated) throw ApiError.notFound('event_type', params.name);
      return eventTypeJson(updated);
    },
  );

  return router;
}
