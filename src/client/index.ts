/** The consumer-side helpers a Hookline customer needs: verifying a delivery's signature. */
export {
  verifyWebhook,
  WebhookSchemes,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeaders,
  type WebhookScheme,
} from './verify';
