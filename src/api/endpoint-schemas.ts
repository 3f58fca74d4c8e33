/** The endpoint resource's schemas: its fields, signing secrets, stats, recoveries and rotation. */
import { isEventTypePattern } from '../domain/event-types';
import { IdPrefix } from '../domain/ids';
import { customHeadersProblem, signatureHeaderProblem } from '../domain/headers';
import { isValidSuppliedSecret, SignatureSchemes, type SignatureScheme } from '../domain/signing';
import { AppParams, channelList, idOf, metadata, PageQuery, RetryScheduleSchema, stringMap, timeInput, timestamp, uid } from './schema-parts';
import { z } from './zod';

/** An endpoint in a path: its id, or the uid the producer gave it (as an application's path segment is). */
export const EndpointParams = AppParams.extend({ endpoint: z.string().min(1).max(256).openapi({ description: 'Endpoint id or uid' }) });
const eventTypePattern = z.string().refine(isEventTypePattern, 'must be "*", an event type such as "invoice.paid", or a prefix such as "invoice.*"');
const SchemeSchema = z.enum([SignatureSchemes.standard, SignatureSchemes.stripe, SignatureSchemes.hex]);
const SignatureHeaderSchema = z.string().superRefine((name, ctx) => {
  const problem = signatureHeaderProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const CustomHeadersSchema = stringMap(z.string(), z.string())
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

const SuppliedSecret = z.string().min(1).max(128).openapi({ description: 'For standard: whsec_ + base64 of 24–64 bytes; for stripe and hex: 16–128 printable characters' });
const endpointFields = {
  // URL parsers drop tabs and line breaks and trim control characters without a word, so
  // "https://a/\r\nX: y" would be stored as another URL than the one sent.
  // eslint-disable-next-line no-control-regex
  url: z.string().min(1).max(2048).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters (tabs, line breaks); percent-encode them'),
  uid: uid.nullish(),
  description: z.string().max(1024).optional(),
  event_types: z.array(eventTypePattern).min(1).max(100).optional(),
  channels: channelList,
  signature_scheme: SchemeSchema.optional(),
  signature_header: SignatureHeaderSchema.nullish(),
  // Declared nullable by hand: the generator drops null from a refined or registered schema.
  headers: CustomHeadersSchema.nullish().openapi({ type: ['object', 'null'], description: 'Write-only custom headers, such as Authorization. Values are encrypted at rest and never returned. null removes them.' }),
  timeout_ms: z.number().int().min(100).max(30_000).optional(),
  rate_limit_per_s: z.number().int().min(1).max(10_000).nullish(),
  retry_schedule: z.union([RetryScheduleSchema, z.null()]).optional().openapi({ description: "The endpoint's own schedule, over its application's; null removes it" }),
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
 * `PUT …/endpoints/by-uid/{uid}`: the create body; the uid is the path's. `url` is needed only to
 * create (an update keeps what is left out). The route checks both that and the secret: on an
 * update, a scheme left out is the endpoint's own, not `standard`.
 */
const { uid: _pathUid, ...putFields } = endpointFields;
export const PutEndpointBody = z
  .object({ ...putFields, url: putFields.url.optional().openapi({ description: 'Required to create the endpoint' }), secret: SuppliedSecret.optional() })
  .strict()
  .openapi('PutEndpoint');
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
    latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }).openapi({ description: 'Time the endpoint took to answer, in whole ms, over the attempts of the window it answered (timeouts and connection errors left out); null when none' }),
  })
  .openapi('EndpointStats');

export const RecoverBody = z
  .object({
    since: timeInput.openapi({ description: 'Resend failed and skipped deliveries created at or after this time' }),
    until: timeInput.optional().openapi({ description: 'and before this time; default now' }),
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
    resent: z.number().int().openapi({ description: 'Deliveries resent so far. A recovery stopped by a terminate reports what its last finished page recorded: up to one page (`rate_per_s` resends) fewer than it made' }),
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
