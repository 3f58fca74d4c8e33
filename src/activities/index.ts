/**
 * `createActivities(deps)`: the only code that touches the network and the store on Temporal's
 * behalf. Workflows import the `Activities` type only.
 */
import { Context } from '@temporalio/activity';
import { createHealthCheck, createStopDisabledDeliveries, type StopDeps } from './health';
import { createRecoverPage, type RecoverDeps } from './recover';
import { createSendWebhook, timedOutOnly, type SendDeps, type SendInput } from './send-webhook';

export type { SendInput, SendResult } from './send-webhook';
export type { HealthCheckResult } from './health';

export type ActivityDeps = SendDeps & StopDeps & RecoverDeps;

export interface ResolveInput {
  eventId: string;
  /** The event's type, carried by the fan-out: the window's matching keys come from it. */
  eventType: string;
  after: string | null;
  limit: number;
}

export interface ResolveResult {
  /** Deliveries to start; endpoints that are disabled get a `skipped` delivery instead. */
  deliveries: { deliveryId: string; endpointId: string }[];
  skipped: number;
  /** The cursor for the next window, or null when this was the last. */
  nextAfter: string | null;
}

export function createActivities(deps: ActivityDeps) {
  const send = createSendWebhook(deps);
  return {
    /** One window of subscribed endpoints, with their delivery rows created (idempotently). */
    async resolveEndpoints({ eventId, eventType, after, limit }: ResolveInput): Promise<ResolveResult> {
      const { appId, endpoints } = await deps.store.events.fanOutWindow({ eventId, type: eventType, after, limit });
      const created = await deps.store.deliveries.createForEvent({ id: eventId, appId, type: eventType }, endpoints);
      const toStart = created.filter((d) => d.status === 'pending');
      return {
        deliveries: toStart.map((d) => ({ deliveryId: d.id, endpointId: d.endpointId })),
        skipped: created.length - toStart.length,
        nextAfter: endpoints.length === limit ? endpoints[endpoints.length - 1]!.id : null,
      };
    },
    /** Its POST is aborted when its local activity times out (see `timedOutOnly`). */
    sendWebhook: (input: SendInput) => send(input, timedOutOnly(Context.current().cancellationSignal)),
    checkEndpointHealth: createHealthCheck(deps.store, deps.metrics, deps.now),
    stopDisabledDeliveries: createStopDisabledDeliveries(deps),
    recoverPage: createRecoverPage(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
