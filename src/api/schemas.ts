/** Request and response schemas of the API. They validate requests and generate /openapi.json. */
import { isEventTypeName, isEventTypePattern } from '../domain/event-types';
import { FailureReason } from '../domain/attempt-outcome';
import { IdPrefix, isId, OPERATOR_APP_UID, uidProblem } from '../domain/ids';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../domain/json-depth';
import { disablePolicyProblem, type DisablePolicy } from '../domain/health-policy';
import { scheduleProblem, type RetrySchedule } from '../domain/schedule';
import { customHeadersProblem, signatureHeaderProblem } from '../domain/headers';
import { isValidSuppliedSecret, SignatureSchemes, type SignatureScheme } from '../domain/signing';
import { z } from './zod';

export const MAX_PAGE_SIZE = 250;

const idOf = (prefix: IdPrefix) => z.string().refine((v) => isId(prefix, v), { message: `must be an id starting with "${prefix}_"` });
const uid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'letters, digits, "-", "_" and "." only')
  .superRefine((value, ctx) => {
    const problem = uidProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
// The operator application is found by its uid at every start: a producer's must not take it.
export const RESERVED_UID_MESSAGE = `"${OPERATOR_APP_UID}" is reserved for Hookline's operational events`;
const appUid = uid.refine((v) => v !== OPERATOR_APP_UID, RESERVED_UID_MESSAGE);
const metadata = z.record(z.string().max(256), z.string().max(1024)).refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');
const channel = z.string().min(1).max(128).regex(/^[a-zA-Z0-9\-_.:]+$/, 'letters, digits, "-", "_", "." and ":" only');
// ISO 8601 with `Z` or an offset (`+02:00`); answers always use `Z`.
const timestamp = z.iso.datetime({ offset: true });

export const RetryScheduleSchema = z
  .union([z.string(), z.array(z.union([z.string(), z.number()]))])
  .superRefine((value, ctx) => {
    const problem = scheduleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => v as RetrySchedule)
  .openapi('RetrySchedule', { description: 'A preset (standard, short, steady, patient, brief) or a list of durations such as ["30s", "5m", "2h"] or milliseconds.' });

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

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  // Ids, or event-type names (up to 256 characters).
  cursor: z.string().max(256).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() }).openapi(name);

// Applications
export const AppParams = z.object({ app: z.string().min(1).max(256).openapi({ description: 'Application id or uid' }) });
export const CreateAppBody = z
  .object({
    name: z.string().min(1).max(256),
    uid: appUid.nullish().openapi({ description: 'Unique among applications; only the admin key may change it' }),
    retry_schedule: RetryScheduleSchema.optional(),
    payload_format: z.enum(['envelope', 'raw']).optional(),
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
    payload_format: z.enum(['envelope', 'raw']),
    disable_policy: z.unknown(),
    metadata: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Application');

// Endpoints
export const EndpointParams = AppParams.extend({ endpoint: idOf(IdPrefix.endpoint) });
const eventTypePattern = z.string().refine(isEventTypePattern, 'must be "*", an event type such as "invoice.paid", or a prefix such as "invoice.*"');
const SchemeSchema = z.enum([SignatureSchemes.standard, SignatureSchemes.stripe, SignatureSchemes.hex]);
const SignatureHeaderSchema = z.string().superRefine((name, ctx) => {
  const problem = signatureHeaderProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const CustomHeadersSchema = z
  .record(z.string(), z.string())
  .superRefine((headers, ctx) => {
    const problem = customHeadersProblem(headers);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({ description: 'Write-only custom headers, such as Authorization. Values are encrypted at rest and never returned.' });

/** Default header for the schemes that name their own (`standard` uses the webhook-* trio). */
export const DEFAULT_SIGNATURE_HEADER: Record<SignatureScheme, string | null> = {
  standard: null,
  stripe: 'Hookline-Signature',
  hex: 'X-Hookline-Signature',
};

const SuppliedSecret = z.string().min(1).max(256).openapi({ description: 'For standard: whsec_ + base64 of 24–64 bytes; for stripe and hex: 16–128 printable characters' });
const endpointFields = {
  url: z.string().min(1).max(2048),
  uid: uid.nullish(),
  description: z.string().max(1024).optional(),
  event_types: z.array(eventTypePattern).min(1).max(100).optional(),
  channels: z.array(channel).max(10).nullish(),
  signature_scheme: SchemeSchema.optional(),
  signature_header: SignatureHeaderSchema.nullish(),
  headers: CustomHeadersSchema.nullish(),
  timeout_ms: z.number().int().min(100).max(30_000).optional(),
  rate_limit_per_s: z.number().int().min(1).max(10_000).nullish(),
  retry_schedule: RetryScheduleSchema.nullish(),
  metadata: metadata.optional(),
};
/** Why a supplied secret cannot sign with `scheme`, or null. */
export function suppliedSecretProblem(scheme: SignatureScheme, secret: string): string | null {
  if (isValidSuppliedSecret(scheme, secret)) return null;
  return `not a valid ${scheme} secret (${scheme === 'standard' ? '"whsec_" + base64 of 24–64 bytes' : '16–128 printable characters'})`;
}
/** A supplied secret must suit the scheme it will sign with. */
function checkSuppliedSecret(body: { secret?: string | undefined; signature_scheme?: SignatureScheme | undefined }, ctx: z.RefinementCtx): void {
  const problem = body.secret === undefined ? null : suppliedSecretProblem(body.signature_scheme ?? SignatureSchemes.standard, body.secret);
  if (problem) ctx.addIssue({ code: 'custom', path: ['secret'], message: problem });
}
export const CreateEndpointBody = z.object({ ...endpointFields, secret: SuppliedSecret.optional() }).strict().superRefine(checkSuppliedSecret).openapi('CreateEndpoint');
/**
 * `PUT …/endpoints/by-uid/{uid}`: the create body; the uid is the path's. The secret is checked
 * by the route: on an update, a scheme left out is the endpoint's own, not `standard`.
 */
const { uid: _pathUid, ...putFields } = endpointFields;
export const PutEndpointBody = z.object({ ...putFields, secret: SuppliedSecret.optional() }).strict().openapi('PutEndpoint');
export const EndpointUidParams = AppParams.extend({ uid });
export const UpdateEndpointBody = z.object(endpointFields).partial().strict().openapi('UpdateEndpoint');
export const DisableEndpointBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict().openapi('DisableEndpoint');

export const EndpointStatsResponse = z
  .object({
    endpoint_id: z.string(),
    since: timestamp,
    until: timestamp,
    attempts: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    success_rate: z.number().nullable().openapi({ description: 'succeeded / attempts; null without attempts' }),
    latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }).openapi({ description: 'Time the endpoint took to answer, over the attempts of the window' }),
  })
  .openapi('EndpointStats');

export const RecoverBody = z
  .object({
    since: timestamp.openapi({ description: 'Resend failed and skipped deliveries created at or after this time' }),
    until: timestamp.optional().openapi({ description: 'and before this time; default now' }),
    rate_per_s: z.number().int().min(1).max(1000).optional().openapi({ description: 'Resends per second at most; default 20' }),
  })
  .strict()
  .openapi('RecoverEndpoint');
export const RecoveryParams = EndpointParams.extend({ recovery: idOf(IdPrefix.recovery) });
export const RecoveryResponse = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    since: timestamp,
    until: timestamp,
    rate_per_s: z.number().int(),
    status: z.enum(['running', 'completed', 'stopped']),
    resent: z.number().int().openapi({ description: 'Deliveries resent so far (0 for a stopped recovery: its count is not kept)' }),
  })
  .openapi('Recovery');
export const RotateSecretBody = z
  .object({
    secret: SuppliedSecret.optional(),
    grace_period_s: z.number().int().min(0).max(7 * 24 * 3600).optional().openapi({ description: 'How long the old secret keeps signing; default 86400, at most 7 days' }),
  })
  .strict()
  .openapi('RotateSecret');
export const RotateSecretResponse = z.object({ secret: z.string(), previous_secret_expires_at: timestamp }).openapi('RotatedSecret');
const EndpointStatusSchema = z.enum(['active', 'disabled']);
export const EndpointListQuery = PageQuery.extend({ status: EndpointStatusSchema.optional() });
export const EndpointResponse = z
  .object({
    id: z.string(),
    app_id: z.string(),
    uid: z.string().nullable(),
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    channels: z.array(z.string()).nullable(),
    signature_scheme: SchemeSchema,
    signature_header: z.string().nullable(),
    header_names: z.array(z.string()).openapi({ description: 'Names of the custom headers; values are never returned' }),
    timeout_ms: z.number(),
    rate_limit_per_s: z.number().nullable(),
    retry_schedule: z.unknown(),
    status: EndpointStatusSchema,
    disabled_reason: z.string().nullable(),
    disabled_at: timestamp.nullable(),
    metadata: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
    secret: z.string().optional().openapi({ description: 'Returned once, when the endpoint is created.' }),
  })
  .openapi('Endpoint');

// Events
export const EventParams = AppParams.extend({ event: idOf(IdPrefix.event) });
// Bodies arrive through JSON.parse, so any value here is JSON already.
const jsonValue = z.unknown();
/**
 * A JSON object or array, passed on as JSON.parse built it: rebuilding it (as z.record does) would
 * drop a `__proto__` key. Nesting is capped (MAX_JSON_DEPTH) so that serializing it cannot overflow.
 */
const jsonDocument = z
  .custom<Record<string, unknown> | unknown[]>((v) => typeof v === 'object' && v !== null, { message: 'must be a JSON object or array' })
  .refine((v) => !jsonDepthExceeds(v, MAX_JSON_DEPTH), `must not nest deeper than ${MAX_JSON_DEPTH} levels`)
  .openapi({ type: ['object', 'array'] });
export const CreateEventBody = z
  .object({
    type: z.string().refine(isEventTypeName, 'must be dot-separated segments of letters, digits and "_"'),
    data: jsonDocument,
    previous_data: jsonDocument.nullish(),
    channels: z.array(channel).min(1).max(10).nullish(),
    endpoint_ids: z.array(idOf(IdPrefix.endpoint)).min(1).max(50).nullish(),
  })
  .strict()
  .openapi('CreateEvent');
export const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(256).optional() });

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
const eventTypeName = z.string().refine(isEventTypeName, 'must be dot-separated segments of letters, digits and "_"');
const example = jsonDocument.openapi({ description: 'The payload a test send delivers as the event\'s data; it must satisfy the schema' });
const eventSchema = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'must be a JSON Schema object' })
  .refine((v) => !jsonDepthExceeds(v, MAX_JSON_DEPTH), `must not nest deeper than ${MAX_JSON_DEPTH} levels`)
  .openapi({
    type: 'object',
    description: 'A JSON Schema (draft 2020-12 unless `$schema` names 2019-09 or 07) that event data of this type must satisfy when it is posted',
  });
export const EventTypeParams = z.object({ name: eventTypeName });
export const EventTypeListQuery = PageQuery.extend({ include_archived: z.enum(['true', 'false']).optional() });
export const CreateEventTypeBody = z
  .object({ name: eventTypeName, description: z.string().max(1000).optional(), example: example.optional(), schema: eventSchema.nullish() })
  .strict()
  .openapi('CreateEventType');
export const UpdateEventTypeBody = z
  .object({
    description: z.string().max(1000).optional(),
    example: example.optional(),
    schema: eventSchema.nullable().optional().openapi({ description: 'A new schema, or null to remove it' }),
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
    created_at: timestamp,
  })
  .openapi('Event');
/** Lists of events and deliveries filter by creation time: [since, until). */
const createdRange = {
  since: timestamp.optional().openapi({ description: 'Only items created at or after this time' }),
  until: timestamp.optional().openapi({ description: 'Only items created before this time' }),
};
export const EventListQuery = PageQuery.extend({ type: z.string().max(256).optional(), ...createdRange });

// Deliveries and attempts
export const DeliveryParams = AppParams.extend({ delivery: idOf(IdPrefix.delivery) });
export const DeliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed', 'skipped']);
export const DeliveryListQuery = PageQuery.extend({
  status: DeliveryStatusSchema.optional(),
  endpoint_id: idOf(IdPrefix.endpoint).optional(),
  event_type: z.string().max(256).optional(),
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
    error_code: z.string().nullable(),
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
      .openapi({ description: `Why a failed delivery ended: ${Object.values(FailureReason).join(', ')} (not_started: a test send that could not be started)` }),
    test: z.boolean().openapi({ description: 'A test send\'s delivery (POST …/endpoints/{id}/test): one attempt, no retries, also when resent' }),
    created_at: timestamp,
    updated_at: timestamp,
    attempts: z.array(AttemptResponse).optional(),
  })
  .openapi('Delivery');
