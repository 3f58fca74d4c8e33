/**
 * `fanOut`: one per event, id `fanout/<evt>` (PRODUCT.md §8).
 *
 * Each run resolves one window of subscribed endpoints (the activity also creates their delivery
 * rows), starts one `delivery` child per endpoint with ABANDON, and continues-as-new with the
 * cursor, so no history grows with the number of endpoints (invariant 4). A run must wait until
 * every child has started: the server drops child starts still pending when the parent closes.
 * Children that finish before that still record their completion in the run (≤ 1 per child).
 *
 * Cancelling a fan-out (Request Cancellation in the Web UI) is how an operator stops the rest of
 * an event: it takes effect between windows. A window runs to its end whatever comes, because its
 * activity commits the window's delivery rows, and a row whose child never started would read
 * `pending` with nothing to finish it. The cancel reaches no child either: deliveries already
 * started run on. The first window always runs, so a canceled event is always marked dispatched
 * and no sweep starts it again.
 */
import { CancellationScope, CancelledFailure, continueAsNew, ParentClosePolicy, proxyLocalActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { delivery, deliveryWorkflowId, type DeliveryInput } from './delivery';
import { deliverySearchAttributes } from './search-attributes';

export interface FanOutInput {
  appId: string;
  eventId: string;
  eventType: string;
  /** Endpoint id the next window starts after; null for the first run. */
  after?: string | null;
  /** Children started by earlier runs of this chain. */
  started?: number;
  /** Endpoints per run; each costs about two history events in the run. */
  windowSize?: number;
}

export interface FanOutResult {
  deliveries: number;
}

export const DEFAULT_FAN_OUT_WINDOW = 250;

export function fanOutWorkflowId(eventId: string): string {
  return `fanout/${eventId}`;
}

/** The event a `fanOutWorkflowId` names, or undefined for any other id. */
export function parseFanOutWorkflowId(workflowId: string): string | undefined {
  const [kind, eventId, ...rest] = workflowId.split('/');
  return kind === 'fanout' && eventId && rest.length === 0 ? eventId : undefined;
}

// A local activity: the window is resolved inside the run's first workflow task, with no
// activity task round trip (4 history events and one task-queue hop fewer per run).
const { resolveEndpoints } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

export async function fanOut(input: FanOutInput): Promise<FanOutResult> {
  const page = await CancellationScope.nonCancellable(() => runWindow(input));
  const started = (input.started ?? 0) + page.deliveries.length;
  if (page.nextAfter !== null) {
    if (CancellationScope.current().consideredCancelled) {
      throw new CancelledFailure(`fan-out canceled after ${started} deliveries; the event's endpoints after ${page.nextAfter} get none`);
    }
    return continueAsNew<typeof fanOut>({ ...input, after: page.nextAfter, started });
  }
  return { deliveries: started };
}

/** Resolves one window (the activity commits its delivery rows) and starts a child for each. */
async function runWindow(input: FanOutInput) {
  const windowSize = input.windowSize ?? DEFAULT_FAN_OUT_WINDOW;
  const page = await resolveEndpoints({ eventId: input.eventId, eventType: input.eventType, after: input.after ?? null, limit: windowSize });
  await Promise.all(
    page.deliveries.map(async (d) => {
      const child: DeliveryInput = { deliveryId: d.deliveryId, appId: input.appId, eventId: input.eventId, endpointId: d.endpointId, eventType: input.eventType };
      try {
        await startChild(delivery, {
          workflowId: deliveryWorkflowId(input.eventId, d.endpointId),
          args: [child],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // A delivery that already ran is never started again by a re-run fan-out.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: deliverySearchAttributes(child),
        });
      } catch (err) {
        // An earlier run of this chain (or a retried window) already started it.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
  return page;
}
