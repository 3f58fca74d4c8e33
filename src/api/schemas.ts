/**
 * Request and response schemas of the API. They validate requests and generate /openapi.json.
 * The shared pieces are in schema-parts.ts, the endpoint resource's in endpoint-schemas.ts.
 */
import { EVENT_TYPE, EVENT_TYPE_MAX_LENGTH, isReservedEventType, RESERVED_EVENT_TYPE_PREFIX } from '../domain/event-types';
import { FailureReason } from '../domain/attempt-outcome';
import { PayloadFormat } from '../domain/envelope';
import { IdPrefix, OPERATOR_APP_UID } from '../domain/ids';
import { AttemptErrorCode } from '../domain/model';
import { jsonDocumentProblem, MAX_JSON_DEPTH } from '../domain/json-depth';
import { disablePolicyProblem, type DisablePolicy } from '../domain/health-policy';
import { AppParams, channelList, IdempotencyHeaders, idOf, MAX_PAGE_SIZE, metadata, PageQuery, pageOf, RetryScheduleSchema, timeInput, timestamp, uid } from './schema-parts';
import { z } from './zod';

export { MAX_PAGE_SIZE, AppParams, IdempotencyHeaders, PageQuery, pageOf, RetryScheduleSchema };
export * from './endpoint-schemas';

// The operator application is found by its uid at every start: a producer's must not take it.
export const RESERVED_UID_MESSAGE = `"${OPERATOR_APP_UID}" is reserved for Hookline's operational events`;
const appUid = uid.refine((v) => v !== OPERATOR_APP_UID, RESERVED_UID_MESSAGE);
export const DisablePolicySchema = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = disablePolicyProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => v as DisablePolicy)
  .openapi('DisablePolicy', {
    description: 'When failing endpoints are disabled: {"type":"failure_rate","threshold":0.9,"window_s":86400,"min_attempts":10} (the default) or {"type":"consecutive","threshold":5}',
  });

// Applications
const PayloadFormatSchema = z.enum([PayloadFormat.envelope, PayloadFormat.raw]).openapi({ description: 'envelope: {id, type, timestamp, data[, previous_data]}; raw: data alone, as the producer wrote it' });
export const CreateAppBody = z
  .object({
    name: z.string().min(1).max(256),
    uid: appUid.nullish().openapi({ description: 'Unique among applications; only the admin key may change it' }),
    retry_schedule: RetryScheduleSchema.optional(),
    payload_format: PayloadFormatSchema.optional(),
    disable_policy: DisablePolicySchema.optional(),
    metadata: metadata.optional(),
  })
  .strict()
  .openapi('CreateApplication');
// The reserved uid is checked by the route on PATCH: the operator application may repeat its own.
export const UpdateAppBody = CreateAppBody.extend({ uid: uid.nullish().openapi({ description: 'Unique among applications; only the admin key may change it' }) })
  .partial()
  .strict()
  .openapi('UpdateApplication');
export const AppResponse = z
  .object({
    id: z.string(),
    uid: z.string().nullable(),
    name: z.string(),
    retry_schedule: z.unknown(),
    payload_format: PayloadFormatSchema,
    disable_policy: z.unknown(),
    metadata: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Application');


// Events
export const EventParams = AppParams.extend({ event: idOf(IdPrefix.event) });
// Bodies arrive through JSON.parse, so any value here is JSON already.
const jsonValue = z.unknown();
function refuseJsonProblem(value: unknown, ctx: z.RefinementCtx): void {
  const problem = jsonDocumentProblem(value, MAX_JSON_DEPTH);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}
/**
 * A JSON object or array, passed on as JSON.parse built it: rebuilding it (as z.record does) would
 * drop a `__proto__` key. Nesting is capped and numbers must fit a double (json-depth.ts).
 */
const jsonDocument = z
  .custom<Record<string, unknown> | unknown[]>((v) => typeof v === 'object' && v !== null, { message: 'must be a JSON object or array' })
  .superRefine(refuseJsonProblem)
  .openapi({ type: ['object', 'array'] });
/** An event type's name; each rule says its own message (a long name is not a malformed one). */
const eventTypeName = z
  .string()
  .max(EVENT_TYPE_MAX_LENGTH, `must be at most ${EVENT_TYPE_MAX_LENGTH} characters`)
  .regex(EVENT_TYPE, 'must be dot-separated segments of letters, digits and "_"');
/** The type of a new event or event type: a name outside the reserved `hookline.` namespace. */
const newEventTypeName = eventTypeName
  .refine((name) => !isReservedEventType(name), `names starting with "${RESERVED_EVENT_TYPE_PREFIX}" are reserved for Hookline's own events`);
export const CreateEventBody = z
  .object({
    type: newEventTypeName,
    data: jsonDocument,
    previous_data: jsonDocument.nullish().openapi({ type: ['object', 'array', 'null'] }),
    channels: channelList,
    endpoint_ids: z.array(idOf(IdPrefix.endpoint)).min(1).max(50).nullish(),
  })
  .strict()
  .openapi('CreateEvent');

// Application keys
export const KeyParams = AppParams.extend({ key: z.string().regex(new RegExp(`^${IdPrefix.key}_[0-9A-Z]{26}$`), 'must be a key id') });
export const CreateKeyBody = z.object({ name: z.string().max(256).optional() }).strict().openapi('CreateKey');
export const KeyResponse = z
  .object({
    id: z.string(),
    app_id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the key, to tell keys apart' }),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
    key: z.string().optional().openapi({ description: 'The key itself: returned once, when it is created' }),
  })
  .openapi('ApiKey');

// Event types and test sends
const example = jsonDocument.openapi({ description: 'The payload a test send delivers as the event\'s data; it must satisfy the schema' });
const eventSchema = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'must be a JSON Schema object' })
  .superRefine(refuseJsonProblem)
  .openapi({
    type: 'object',
    description: 'A JSON Schema (draft 2020-12 unless `$schema` names 2019-09 or 07) that event data of this type must satisfy when it is posted',
  });
export const EventTypeParams = z.object({ name: eventTypeName });
export const EventTypeListQuery = PageQuery.extend({ include_archived: z.enum(['true', 'false']).optional() });
export const CreateEventTypeBody = z
  .object({ name: newEventTypeName, description: z.string().max(1000).optional(), example: example.optional(), schema: eventSchema.nullish().openapi({ type: ['object', 'null'] }) })
  .strict()
  .openapi('CreateEventType');
export const UpdateEventTypeBody = z
  .object({
    description: z.string().max(1000).optional(),
    example: example.nullable().optional().openapi({ type: ['object', 'array', 'null'], description: 'A new example, or null to reset it to {} (the default when an event type is created without one)' }),
    schema: eventSchema.nullable().optional().openapi({ type: ['object', 'null'], description: 'A new schema, or null to remove it' }),
    archived: z.boolean().optional(),
  })
  .strict()
  .openapi('UpdateEventType');
export const EventTypeResponse = z
  .object({ name: z.string(), description: z.string(), example: jsonValue, schema: jsonValue.nullable(), archived: z.boolean(), created_at: timestamp, updated_at: timestamp })
  .openapi('EventType');
export const TestSendBody = z.object({ event_type: eventTypeName.optional() }).strict().openapi('TestSend');
export const EventResponse = z
  .object({
    id: z.string(),
    app_id: z.string(),
    type: z.string(),
    data: z.unknown(),
    previous_data: z.unknown().nullable(),
    channels: z.array(z.string()).nullable(),
    endpoint_ids: z.array(z.string()).nullable(),
    test: z.boolean().openapi({ description: 'Made by a test send (POST …/endpoints/{id}/test), not by the producer' }),
    created_at: timestamp,
  })
  .openapi('Event');
/** Lists of events and deliveries filter by creation time: [since, until). */
const createdRange = {
  since: timeInput.optional().openapi({ description: 'Only items created at or after this time' }),
  until: timeInput.optional().openapi({ description: 'Only items created before this time' }),
};
/**
 * An event-type filter names one type. An empty one is refused, not read as no filter (`?type=`
 * must not return every event), and so is a pattern, which would match nothing.
 */
const typeFilter = z
  .string()
  .min(1)
  .max(EVENT_TYPE_MAX_LENGTH, `must be at most ${EVENT_TYPE_MAX_LENGTH} characters`)
  .regex(EVENT_TYPE, 'must be one event type, such as invoice.paid (patterns such as invoice.* are for endpoint subscriptions, not filters)');
export const EventListQuery = PageQuery.extend({ type: typeFilter.optional(), ...createdRange });

// Deliveries and attempts
/**
 * A delivery read alone carries this many of its attempts. Resends add attempts without bound,
 * and each holds up to 16 KiB of response body, so the whole list could make one response huge.
 */
export const ATTEMPTS_SHOWN = 100;

export const DeliveryParams = AppParams.extend({ delivery: idOf(IdPrefix.delivery) });
export const DeliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed', 'skipped']);
export const DeliveryListQuery = PageQuery.extend({
  status: DeliveryStatusSchema.optional(),
  endpoint_id: idOf(IdPrefix.endpoint).optional(),
  event_type: typeFilter.optional(),
  ...createdRange,
});
export const AttemptResponse = z
  .object({
    id: z.string(),
    attempt_number: z.number(),
    trigger: z.enum(['scheduled', 'manual', 'test']),
    url: z.string(),
    started_at: timestamp,
    duration_ms: z.number(),
    response_status: z.number().nullable(),
    response_headers: z.record(z.string(), z.string()),
    response_body: z.string(),
    response_body_truncated: z.boolean(),
    error_code: z
      .string()
      .nullable()
      .openapi({ description: `Why no HTTP response counted: ${Object.values(AttemptErrorCode).join(', ')} (network: any other failure, such as a response Node cannot parse or headers past its limit)` }),
    error_message: z.string().nullable(),
    next_attempt_at: timestamp.nullable(),
  })
  .openapi('Attempt');
export const DeliveryResponse = z
  .object({
    id: z.string(),
    app_id: z.string(),
    event_id: z.string(),
    endpoint_id: z.string(),
    event_type: z.string(),
    status: DeliveryStatusSchema,
    attempt_count: z.number(),
    last_attempt_at: timestamp.nullable(),
    next_attempt_at: timestamp.nullable(),
    failure_reason: z
      .string()
      .nullable()
      .openapi({ description: `Why a failed delivery ended: ${Object.values(FailureReason).join(', ')} (not_started: a test send that could not be started; workflow_ended: its workflow was terminated or canceled in Temporal)` }),
    test: z.boolean().openapi({ description: 'A test send\'s delivery (POST …/endpoints/{id}/test): one attempt, no retries, also when resent' }),
    created_at: timestamp,
    updated_at: timestamp,
    attempts: z.array(AttemptResponse).optional().openapi({ description: `On a single delivery: its newest ${ATTEMPTS_SHOWN} attempts, newest first (attempt_count says how many it has)` }),
  })
  .openapi('Delivery');
