/**
 * Starts workflows on the API's behalf. `dispatch` runs right after an event commits; `sweep`
 * finds committed events whose fan-out was never confirmed (the process died between the commit
 * and the start, or Temporal was down) and starts them. Workflow ids are deterministic and fan-out
 * refuses duplicates, so a start that races a sweep is harmless (ARCHITECTURE.md invariant 1).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type WorkflowClient } from '@temporalio/client';
import type { Delivery } from '../domain/model';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { delivery, deliveryWorkflowId, resendSignal } from '../workflows/delivery';
import { endpointHealth, wakeEndpointHealth } from '../workflows/endpoint-health';
import { fanOut, fanOutWorkflowId } from '../workflows/fan-out';
import { deliverySearchAttributes, HooklineApp, HooklineEvent, HooklineEventType } from '../workflows/search-attributes';

/** The slice of the Temporal workflow client the dispatcher uses; tests wrap it to inject failures. */
export type WorkflowStarter = Pick<WorkflowClient, 'start' | 'signalWithStart'>;

export interface DispatcherDeps {
  workflows: WorkflowStarter;
  store: Store;
  taskQueue: string;
  fanOutWindow: number;
  graceMs: number;
  logger: Logger;
}

export interface EventRef {
  id: string;
  appId: string;
  type: string;
  channels: string[] | null;
  endpointIds: string[] | null;
}

/** Fan-out starts the API has begun and not yet finished; past this the sweep takes over. */
const MAX_PENDING_DISPATCHES = 256;

export function createDispatcher(deps: DispatcherDeps) {
  const { workflows, store, taskQueue, logger } = deps;

  async function startFanOut(event: EventRef, checkSubscribers: boolean): Promise<void> {
    // An event no endpoint subscribes to (disabled ones included: they record skips) needs no
    // workflow at all. The insert already checked at commit; the sweep checks again, since the
    // endpoints may have gone since.
    if (checkSubscribers) {
      const subscribed = await store.endpoints.resolveForEvent({ appId: event.appId, eventType: event.type, channels: event.channels, endpointIds: event.endpointIds, after: null, limit: 1 });
      if (subscribed.length === 0) return store.events.markDispatched(event.id);
    }
    try {
      await workflows.start(fanOut, {
        workflowId: fanOutWorkflowId(event.id),
        taskQueue,
        args: [{ appId: event.appId, eventId: event.id, eventType: event.type, windowSize: deps.fanOutWindow }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: HooklineApp, value: event.appId },
          { key: HooklineEvent, value: event.id },
          { key: HooklineEventType, value: event.type },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await store.events.markDispatched(event.id);
  }

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  const pending = new Set<Promise<void>>();

  async function sweepOnce(): Promise<number> {
    let started = 0;
    for (;;) {
      const due = await store.events.undispatched(new Date(Date.now() - deps.graceMs), 200);
      for (const event of due) {
        await startFanOut(event, true);
        started++;
      }
      if (due.length < 200) return started;
    }
  }

  return {
    /**
     * Called after the commit of an event that has subscribers, and not awaited: the event is
     * accepted once it is committed, so the API answers without waiting for Temporal. A failed
     * start is logged and the sweep starts the event later; so does the sweep when too many
     * starts are already under way.
     */
    dispatch(event: EventRef): void {
      if (pending.size >= MAX_PENDING_DISPATCHES) return;
      const started = startFanOut(event, false).catch((err: unknown) => {
        logger.warn({ err, eventId: event.id }, 'fan-out start failed; the dispatcher sweep will retry');
      });
      pending.add(started);
      void started.finally(() => pending.delete(started));
    },

    /** Starts every undispatched event older than the grace period; returns how many. */
    sweep(): Promise<number> {
      sweeping ??= sweepOnce().finally(() => {
        sweeping = undefined;
      });
      return sweeping;
    },

    /** Runs `sweep` now and then every `intervalMs` until `stop`. */
    start(intervalMs: number): void {
      const tick = () => {
        this.sweep().then(
          (n) => n > 0 && logger.info({ started: n }, 'dispatcher started undispatched events'),
          (err: unknown) => logger.warn({ err }, 'dispatcher sweep failed'),
        );
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await Promise.all([sweeping?.catch(() => undefined), ...pending]);
    },

    /**
     * After a disable through the API: wakes the endpoint's health workflow, which stops the
     * deliveries still waiting to retry. The disable has committed either way, so a failure is
     * logged, not thrown; those deliveries then end at their next timer, when the attempt finds
     * the endpoint disabled.
     */
    async endpointDisabled(endpointId: string): Promise<void> {
      await workflows.signalWithStart(endpointHealth, wakeEndpointHealth(endpointId, taskQueue)).catch((err: unknown) => {
        logger.warn({ err, endpointId }, 'could not wake the health workflow of a disabled endpoint; its waiting deliveries end at their timers');
      });
    },

    /**
     * Resend: a waiting delivery attempts now; a finished one is revived by a new run that makes
     * one `manual` attempt. Signal-with-start does both in one call.
     */
    async resend(d: Delivery): Promise<void> {
      const input = { deliveryId: d.id, appId: d.appId, eventId: d.eventId, endpointId: d.endpointId, eventType: d.eventType };
      await workflows.signalWithStart(delivery, {
        workflowId: deliveryWorkflowId(d.eventId, d.endpointId),
        taskQueue,
        signal: resendSignal,
        signalArgs: [],
        args: [{ ...input, revive: { attemptNumber: d.attemptCount + 1 } }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: deliverySearchAttributes(input),
      });
    },
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
