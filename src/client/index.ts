/** What Hookline's users import: the consumer's signature check, and the producer's API client. */
export {
  DEFAULT_SIGNATURE_HEADERS,
  verifyWebhook,
  WebhookSchemes,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeaders,
  type WebhookScheme,
} from './verify';

/** The producer-side client: Hookline's API as typed calls. */
export {
  createHooklineClient,
  HooklineApiError,
  type Application,
  type Delivery,
  type Endpoint,
  type EndpointStats,
  type EventType,
  type HooklineClient,
  type HooklineClientOptions,
  type ListOptions,
  type Page,
  type Recovery,
  type WebhookEvent,
} from './producer';
