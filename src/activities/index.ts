/**
 * `createActivities(deps)`: the only code that touches the network and the store on Temporal's
 * behalf. Workflows import the `Activities` type only.
 */
import type { UrlPolicy } from '../domain/url-rules';
import type { Store } from '../store';
import type { HttpSender } from './http-sender';
import { createSendWebhook } from './send-webhook';

export type { SendInput, SendResult } from './send-webhook';

export interface ActivityDeps {
  store: Store;
  http: HttpSender;
  urlPolicy: UrlPolicy;
  userAgent: string;
}

export interface ResolveInput {
  eventId: string;
  after: string | null;
  limit: number;
}

export interface ResolveResult {
  deliveries: { deliveryId: string; endpointId: string }[];
  /** The cursor for the next window, or null when this was the last. */
  nextAfter: string | null;
}

export function createActivities(deps: ActivityDeps) {
  return {
    /** One window of subscribed endpoints, with their delivery rows created (idempotently). */
    async resolveEndpoints({ eventId, after, limit }: ResolveInput): Promise<ResolveResult> {
      const event = await deps.store.events.payload(eventId);
      if (!event) return { deliveries: [], nextAfter: null };
      const endpointIds = await deps.store.endpoints.resolveForEvent({
        appId: event.app_id,
        eventType: event.type,
        channels: event.channels,
        endpointIds: event.endpoint_ids,
        after,
        limit,
      });
      const created = await deps.store.deliveries.createForEvent({ id: event.id, appId: event.app_id, type: event.type }, endpointIds);
      return {
        deliveries: created.map((d) => ({ deliveryId: d.id, endpointId: d.endpointId })),
        nextAfter: endpointIds.length === limit ? endpointIds[endpointIds.length - 1]! : null,
      };
    },
    sendWebhook: createSendWebhook(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
