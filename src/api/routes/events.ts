import { Router, type Response } from 'express';
import { idempotencyMismatch, type EventRequest } from '../../domain/idempotency';
import { IdPrefix, namesId } from '../../domain/ids';
import { firstRepeatedKey, topLevelMembers } from '../../domain/json-text';
import type { WebhookEvent } from '../../domain/model';
import { ApiError, detailPath, ErrorType, schemaIssueDetails } from '../errors';
import { rawBody } from '../raw-json';
import { AppParams, CreateEventBody, EventListQuery, EventParams, EventResponse, IdempotencyHeaders, pageOf } from '../schemas';
import { eventJson, page } from '../serialize';
import { checkCursor, createdRange, findApp, type RouteContext } from './context';

/** Event data up to this size gets every schema issue listed; larger data, the first. */
const ALL_ISSUES_MAX_BYTES = 64 * 1024;

/**
 * `data` and `previous_data` as JSON text, as the producer wrote them (`json-text.ts`): stored and
 * delivered as they are, so no digit of a large integer is lost. Serialized from the parsed body
 * only when its text is not at hand (a charset the decoder does not know).
 */
function payloadTexts(raw: string | undefined, body: { data: unknown; previous_data?: unknown }): { data: string; previousData: string | null } {
  const members = raw === undefined ? undefined : topLevelMembers(raw, ['data', 'previous_data']);
  const data = members?.get('data') ?? JSON.stringify(body.data);
  const previousData = body.previous_data == null ? null : (members?.get('previous_data') ?? JSON.stringify(body.previous_data));
  return { data, previousData };
}

export function eventsRouter({ store, api, dispatcher, metrics, limits, eventSchemas }: RouteContext): Router {
  /**
   * The answer to an Idempotency-Key repeat: the first event, marked as replayed. The same key
   * with another event is refused (`domain/idempotency.ts`).
   */
  const replayed = (event: WebhookEvent, request: EventRequest, res: Response) => {
    const differs = idempotencyMismatch(event, request);
    if (differs.length > 0) {
      throw new ApiError(
        422,
        ErrorType.invalidRequest,
        'idempotency_key_reused',
        `This Idempotency-Key was used for event ${event.id}, whose ${differs.join(', ')} ${differs.length === 1 ? 'differs' : 'differ'}; use a new key for a new event`,
        differs.map((path) => ({ path, message: 'differs from the first request with this key' })),
      );
    }
    metrics.eventsAccepted.inc({ result: 'replayed' });
    res.set('idempotent-replayed', 'true');
    return eventJson(event);
  };

  const { maxPayloadBytes } = limits;
  const router = Router();
  const tag = 'Events';

  api.route(
    router,
    {
      method: 'post',
      operationId: 'createEvent',
      path: '/v1/apps/:app/events',
      summary: 'Send an event to every subscribed endpoint. 202 means it is committed; an Idempotency-Key repeat returns the first event, and the key with another event is a 422.',
      tag,
      errors: [422],
      responseHeaders: { 'idempotent-replayed': { description: 'true when an Idempotency-Key repeat answers with the first event', schema: { type: 'string', enum: ['true'] } } },
      params: AppParams,
      headers: IdempotencyHeaders,
      body: CreateEventBody,
      response: EventResponse,
      status: 202,
    },
    async ({ params, headers, body, req, res }) => {
      const idempotencyKey = headers['idempotency-key'] ?? null;
      // An `app_…` id needs no lookup: the insert's foreign key says whether the application exists.
      const appId = namesId(IdPrefix.app, params.app) ? params.app : (await findApp(store, params.app)).id;
      const raw = rawBody(req);
      const texts = payloadTexts(raw, body);
      const endpointIds = body.endpoint_ids ? [...new Set(body.endpoint_ids)] : null;
      const request: EventRequest = { type: body.type, dataJson: texts.data, previousDataJson: texts.previousData, channels: body.channels ?? null, endpointIds };
      // The limit is on `data` (PRODUCT.md §6), and on `previous_data` alike, each on its own.
      const dataBytes = Buffer.byteLength(texts.data);
      for (const [field, size] of [['data', dataBytes], ['previous_data', texts.previousData === null ? 0 : Buffer.byteLength(texts.previousData)]] as const) {
        if (size > maxPayloadBytes) throw new ApiError(413, ErrorType.invalidRequest, 'payload_too_large', `Event ${field} is ${size} bytes; the limit is ${maxPayloadBytes}`);
      }
      /**
       * A retry of an event that was accepted before something changed (one of its endpoints was
       * deleted, its type's schema changed) gets that event, as any replay does: the producer
       * must not read an accepted event as refused.
       */
      const refuseUnlessReplay = async (refusal: ApiError) => {
        const first = idempotencyKey === null ? undefined : await store.events.byIdempotencyKey(appId, idempotencyKey);
        if (first) return replayed(first, request, res);
        throw refusal;
      };
      // Kept as written, a repeated key in data would mean one thing to the schema check (the last
      // value) and maybe another to a receiver (some parsers keep the first); in the envelope, one
      // thing to Hookline and maybe another to the producer. (Without the body's text, the
      // parsed body is all there is, and it cannot repeat a key.)
      const repeated = raw === undefined ? null : firstRepeatedKey(raw);
      if (repeated !== null) return refuseUnlessReplay(ApiError.repeatedKey(detailPath('', repeated)));
      // Every issue for a small payload; the first only for a large one (collecting them all costs).
      const issues = await eventSchemas.issues(body.type, body.data, { allIssues: dataBytes <= ALL_ISSUES_MAX_BYTES });
      if (issues.length > 0) {
        return refuseUnlessReplay(
          new ApiError(400, ErrorType.invalidRequest, 'data_invalid', `Event data does not satisfy the schema of event type "${body.type}"`, schemaIssueDetails('data', issues)),
        );
      }
      if (endpointIds) {
        const known = new Set(await store.endpoints.existingIds(appId, endpointIds));
        const unknown = endpointIds.filter((id) => !known.has(id));
        if (unknown.length) {
          return refuseUnlessReplay(new ApiError(400, ErrorType.invalidRequest, 'unknown_endpoint', `No endpoint with id ${unknown.map((id) => `"${id}"`).join(', ')} in this application`));
        }
      }
      const inserted = await store.events.insert(appId, { ...request, idempotencyKey });
      if (!inserted) throw ApiError.applicationNotFound(params.app);
      const { event, created } = inserted;
      if (!created) return replayed(event, request, res);
      metrics.eventsAccepted.inc({ result: 'created' });
      // Committed already dispatched when nobody subscribes: then there is nothing to start.
      if (event.dispatchedAt === null) dispatcher.dispatch(event);
      return eventJson(event);
    },
  );

  api.route(
    router,
    { method: 'get', operationId: 'listEvents', path: '/v1/apps/:app/events', summary: 'List events, newest first, by type and time', tag, params: AppParams, query: EventListQuery, response: pageOf(EventResponse, 'EventList') },
    async ({ params, query }) => {
      const app = await findApp(store, params.app);
      return page(await store.events.list(app.id, { limit: query.limit, cursor: checkCursor(query.cursor, 'evt'), type: query.type, ...createdRange(query) }), eventJson);
    },
  );

  api.route(router, { method: 'get', operationId: 'getEvent', path: '/v1/apps/:app/events/:event', summary: 'Get an event', tag, params: EventParams, response: EventResponse }, async ({ params }) => {
    const app = await findApp(store, params.app);
    const event = await store.events.get(app.id, params.event);
    if (!event) throw ApiError.notFound('event', params.event);
    return eventJson(event);
  });

  return router;
}
