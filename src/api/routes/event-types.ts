/**
 * The event-type catalog (PRODUCT.md §2, §6): the admin key manages it, any key reads it. Each type
 * carries an example payload, which `POST …/endpoints/{id}/test` delivers, and may carry a JSON
 * Schema that posted event data must satisfy. The stored example always satisfies the stored
 * schema, so a test send delivers what a real event of the type could be.
 */
import { Router } from 'express';
import { isEventTypeName } from '../../domain/event-types';
import type { Json } from '../../domain/model';
import type { EventType } from '../../store/event-types';
import { SchemaProblem } from '../../domain/json-schema';
import { SchemaTooSlow } from '../schema-checker';
import { ApiError, ErrorType, schemaIssueDetails } from '../errors';
import { CreateEventTypeBody, EventTypeListQuery, EventTypeParams, EventTypeResponse, pageOf, UpdateEventTypeBody } from '../schemas';
import { page } from '../serialize';
import { checkCursor, type RouteContext } from './context';

export function eventTypeJson(t: EventType) {
  return { name: t.name, description: t.description, example: t.example, schema: t.schema, archived: t.archived, created_at: t.createdAt.toISOString(), updated_at: t.updatedAt.toISOString() };
}

/**
 * Longest one probe value may take to check (schema-probes.ts); one over it is timed again, so
 * that one GC pause refuses nothing. Ordinary schemas take well under a millisecond per value;
 * `anyOf` over one `$ref`, 14 deep, takes 30–70 ms here, and each level doubles it.
 */
export const SCHEMA_PROBE_BUDGET_MS = 50;
/**
 * Longest the whole vetting of a schema may take (its thread is ended then): the example and
 * every probe, with the checker's allowance for compiling (2 s more) when its thread has not
 * compiled the schema yet, as for any new one: about 4 s in all.
 */
export const SCHEMA_VET_BUDGET_MS = 2_000;

/**
 * Refuses a schema that does not compile, an example that does not satisfy it, and a schema that
 * is too slow to check; `given` says whether the request carried the example (else it is the
 * default, {}). It runs on the schema checker's thread: a slow schema must not hold the API.
 */
async function checkSchema(checker: RouteContext['schemaChecker'], schema: Json, example: Json, given = true): Promise<void> {
  let issues;
  try {
    const vetted = await checker.vet(JSON.stringify(schema), example, { probeBudgetMs: SCHEMA_PROBE_BUDGET_MS, budgetMs: SCHEMA_VET_BUDGET_MS });
    if (vetted.slowProbe) throw tooSlow(`${Math.round(vetted.slowProbe.ms)} ms for one value (${shorten(vetted.slowProbe.probe)})`);
    issues = vetted.issues;
  } catch (err) {
    if (err instanceof SchemaTooSlow) throw tooSlow(`the check ${err.reason}`);
    if (!(err instanceof SchemaProblem)) throw err;
    throw new ApiError(400, ErrorType.invalidRequest, 'invalid_schema', err.message, schemaIssueDetails('schema', err.issues));
  }
  if (issues.length > 0 && !given) {
    throw new ApiError(400, ErrorType.invalidRequest, 'example_required', 'Give an example that satisfies the schema: test sends deliver it, and the default example, {}, does not', schemaIssueDetails('example', issues));
  }
  if (issues.length > 0) {
    throw new ApiError(400, ErrorType.invalidRequest, 'example_invalid', 'The example does not satisfy the schema; test sends deliver it, so give one that does', schemaIssueDetails('example', issues));
  }
}

function tooSlow(what: string): SchemaProblem {
  return new SchemaProblem(`Checking data against this schema is too slow: ${what}. anyOf or oneOf branches that reach the same subschema again double the time at every level; simplify them`);
}

const shorten = (text: string) => (text.length > 120 ? `${text.slice(0, 120)}…` : text);

export function eventTypesRouter({ store, api, eventSchemas, schemaChecker }: RouteContext): Router {
  const router = Router();
  const tag = 'Event types';

  api.route(router, { method: 'post', operationId: 'createEventType', idempotent: true, path: '/v1/event-types', summary: 'Add an event type to the catalog', tag, errors: [409], auth: 'admin', body: CreateEventTypeBody, response: EventTypeResponse, status: 201 }, async ({ body }) => {
    const example = (body.example ?? {}) as Json;
    const schema = (body.schema ?? null) as Json | null;
    if (schema !== null) await checkSchema(schemaChecker, schema, example, body.example !== undefined);
    const created = await store.eventTypes.create({ name: body.name, description: body.description ?? '', example, schema });
    // A name that events used before it was catalogued may be cached as having no schema.
    eventSchemas.forget(created.name);
    return eventTypeJson(created);
  });

  api.route(router, { method: 'get', operationId: 'listEventTypes', path: '/v1/event-types', summary: 'List event types by name; archived ones with include_archived=true', tag, query: EventTypeListQuery, response: pageOf(EventTypeResponse, 'EventTypeList') }, async ({ query }) =>
    page(await store.eventTypes.list({ limit: query.limit, cursor: checkCursor(query.cursor, isEventTypeName), includeArchived: query.include_archived === 'true' }), eventTypeJson),
  );

  api.route(router, { method: 'get', operationId: 'getEventType', path: '/v1/event-types/:name', summary: 'Get an event type', tag, params: EventTypeParams, response: EventTypeResponse }, async ({ params }) => {
    const found = await store.eventTypes.get(params.name);
    if (!found) throw ApiError.notFound('event_type', params.name, 'name');
    return eventTypeJson(found);
  });

  api.route(
    router,
    {
      method: 'patch',
      operationId: 'updateEventType',
      path: '/v1/event-types/:name',
      summary: 'Update an event type: description, example, schema (null removes it), or archive it',
      tag,
      auth: 'admin',
      errors: [409],
      params: EventTypeParams,
      body: UpdateEventTypeBody,
      response: EventTypeResponse,
    },
    async ({ params, body }) => {
      const patch = {
        ...(body.description !== undefined && { description: body.description }),
        ...(body.example !== undefined && { example: (body.example ?? {}) as Json }),
        ...(body.schema !== undefined && { schema: body.schema as Json | null }),
        ...(body.archived !== undefined && { archived: body.archived }),
      };
      // The pair that will be stored: what the request changes, the rest as it is. It is vetted
      // before the update's transaction (vetting may take seconds), and the update refuses to
      // store it if a PATCH in between changed the half this one keeps.
      const pairOf = (t: EventType) => ({ schema: patch.schema === undefined ? t.schema : patch.schema, example: patch.example ?? t.example });
      let vetted: string | undefined;
      if (patch.schema !== undefined || patch.example !== undefined) {
        const before = await store.eventTypes.get(params.name);
        if (!before) throw ApiError.notFound('event_type', params.name, 'name');
        const pair = pairOf(before);
        if (pair.schema !== null) await checkSchema(schemaChecker, pair.schema, pair.example);
        vetted = JSON.stringify(pair);
      }
      const updated = await store.eventTypes.update(params.name, patch, (current) => {
        if (vetted !== undefined && JSON.stringify(pairOf(current)) !== vetted) {
          throw new ApiError(409, ErrorType.conflict, 'concurrent_update', 'The event type changed while this update was checked; retry it');
        }
      });
      if (!updated) throw ApiError.notFound('event_type', params.name, 'name');
      eventSchemas.forget(updated.name);
      return eventTypeJson(updated);
    },
  );

  return router;
}
