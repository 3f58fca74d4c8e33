/**
 * Starts workflows and sends signals on the API's behalf. `dispatch` runs right after an event
 * commits; `sweep` finds committed events whose fan-out was never confirmed (the process died
 * between the commit and the start, or Temporal was down) and starts them, and test sends whose
 * workflow never started. Workflow ids are deterministic and starts refuse duplicates, so a
 * start that races a sweep is harmless (docs/architecture.md, invariant 1).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type WorkflowClient } from '@temporalio/client';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { deliveryResender } from '../temporal';
import { endpointHealth, wakeEndpointHealth } from '../workflows/endpoint-health';
import { fanOut, fanOutWorkflowId } from '../workflows/fan-out';
import { createReconciler, type Reconciler } from './reconciler';
import { wakeDeletedEndpointWorkflows } from './deleted-endpoints';
import { recoveryStarter } from './recoveries';
import { createTestSendStarter } from './test-send-starter';
import { HooklineApp, HooklineEvent, HooklineEventType } from '../workflows/search-attributes';

/** The slice of the Temporal workflow client the dispatcher uses; tests wrap it to inject failures. */
export type WorkflowStarter = Pick<WorkflowClient, 'start' | 'signalWithStart' | 'getHandle' | 'list'>;

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

/** Failed starts in a row after which a sweep round gives up until the next one. */
const SWEEP_FAILURES_IN_A_ROW = 3;

/** Fan-out starts the API has begun and not yet finished; past this the sweep takes over. */
const MAX_PENDING_DISPATCHES = 256;

/** The reconciler runs at every this many sweep ticks (every 60 s with the default interval). */
const SWEEPS_PER_RECONCILE = 6;

export function createDispatcher(deps: DispatcherDeps) {
  const { workflows, store, taskQueue, logger } = deps;

  /**
   * `fromSweep`: the API's own start (false) leaves the event undispatched, because the fan-out
   * marks it dispatched in the statement that resolves its first window: one statement fewer
   * per event. The sweep marks it itself, so an event whose fan-out started but has not run yet
   * is not found again at every sweep.
   */
  async function startFanOut(event: EventRef, fromSweep: boolean): Promise<boolean> {
    // An event no endpoint subscribes to (disabled ones included: they record skips) needs no
    // workflow at all. The insert already checked at commit; the sweep checks again, since the
    // endpoints may have gone since.
    if (fromSweep) {
      const subscribed = await store.endpoints.resolveForEvent({ appId: event.appId, eventType: event.type, channels: event.channels, endpointIds: event.endpointIds, after: null, limit: 1 });
      if (subscribed.length === 0) {
        await store.events.markDispatched(event.id);
        return false;
      }
    }
    let started = true;
    try {
      await workflows.start(fanOut, {
        workflowId: fanOutWorkflowId(event.id),
        taskQueue,
        args: [{ appId: event.appId, eventId: event.id, eventType: event.type, windowSize: deps.fanOutWindow }],
        // The sweep finds only events whose fan-out never resolved a window. If that run was
        // terminated (an operator in the Web UI) or failed before it did, it starts again. A
        // running one answers "already started" and is marked dispatched below, so a sweep does
        // not start it again at every round; one that ends unfinished after that is the
        // reconciler's, which starts it again through here.
        workflowIdReusePolicy: fromSweep ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: HooklineApp, value: event.appId },
          { key: HooklineEvent, value: event.id },
          { key: HooklineEventType, value: event.type },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      started = false;
    }
    if (fromSweep) await store.events.markDispatched(event.id);
    return started;
  }

  const tests = createTestSendStarter(deps);

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  let sweepAgain: Promise<number> | undefined;
  /**
   * Calls the API does not await, kept until they settle so `stop()` can wait for them. Fan-out
   * starts and health wakes are kept apart: only fan-out starts count toward
   * MAX_PENDING_DISPATCHES, so slow health wakes do not push events onto the sweep.
   */
  const fanOutStarts = new Set<Promise<void>>();
  const healthWakes = new Set<Promise<void>>();
  const track = (into: Set<Promise<void>>, work: Promise<void>): void => {
    into.add(work);
    void work.finally(() => into.delete(work));
  };

  /**
   * Starts what is due, oldest first. An event whose start fails is logged and skipped, so one
   * event that keeps failing does not hold back the ones after it; the round then ends after its
   * page, and the next round tries it again (rather than reading the same page over and over).
   * A run of failures in a row means Temporal itself is not answering: the round stops there
   * instead of waiting out each start's own retries.
   */
  async function sweepOnce(): Promise<number> {
    return (await sweepEvents()) + (await tests.sweepUnstarted());
  }

  async function sweepEvents(): Promise<number> {
    let started = 0;
    for (;;) {
      const due = await store.events.undispatched(new Date(Date.now() - deps.graceMs), 200);
      let failed = 0;
      let failedInARow = 0;
      for (const event of due) {
        try {
          await startFanOut(event, true);
          started++;
          failedInARow = 0;
        } catch (err) {
          failed++;
          logger.warn({ err, eventId: event.id }, 'dispatcher sweep: fan-out start failed; the next sweep tries again');
          if (++failedInARow >= SWEEP_FAILURES_IN_A_ROW) return started;
        }
      }
      if (due.length < 200 || failed > 0) return started;
    }
  }

  const reconciler = createReconciler({ workflows, store, taskQueue, logger, restartFanOut: (event) => startFanOut(event, true) });

  return {
    /**
     * Called after the commit of an event that has subscribers, and not awaited: the event is
     * accepted once it is committed, so the API answers without waiting for Temporal. A failed
     * start is logged and the sweep starts the event later; so does the sweep when too many
     * starts are already under way.
     */
    dispatch(event: EventRef): void {
      if (fanOutStarts.size >= MAX_PENDING_DISPATCHES) return;
      track(
        fanOutStarts,
        startFanOut(event, false).then(
          () => undefined,
          (err: unknown) => logger.warn({ err, eventId: event.id }, 'fan-out start failed; the dispatcher sweep will retry'),
        ),
      );
    },

    /** Starts every undispatched event, and every unstarted test send, older than the grace period; returns how many. */
    sweep(): Promise<number> {
      if (!sweeping) {
        sweeping = sweepOnce().finally(() => {
          sweeping = undefined;
        });
        return sweeping;
      }
      // The sweep under way may have listed its events before this call: one more runs after it,
      // shared by every caller meanwhile, so a sweep asked for covers what committed before. Its
      // callers are told what both started.
      sweepAgain ??= sweeping.catch(() => 0).then(async (first) => {
        sweepAgain = undefined;
        return first + (await this.sweep());
      });
      return sweepAgain;
    },

    /**
     * Repairs what Temporal ended unfinished (an operator's terminate): restarts fan-outs and
     * closes deliveries left pending (`reconciler.ts`).
     */
    reconcile: (): ReturnType<Reconciler['reconcile']> => reconciler.reconcile(),

    /** Runs `sweep` now and then every `intervalMs`, and `reconcile` at every few sweeps, until `stop`. */
    start(intervalMs: number): void {
      let ticks = 0;
      const tick = () => {
        // A sweep longer than the interval is not joined: its result is logged once, by its tick.
        if (!sweeping) {
          this.sweep().then(
            (n) => n > 0 && logger.info({ started: n }, 'dispatcher started undispatched events'),
            (err: unknown) => logger.warn({ err }, 'dispatcher sweep failed'),
          );
        }
        // Not at the first tick: a process that has just started has nothing of its own to repair yet.
        if (++ticks % SWEEPS_PER_RECONCILE === 0) {
          reconciler.reconcileIfIdle()?.catch((err: unknown) => logger.warn({ err }, 'reconciler round failed; the next one tries again'));
        }
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await Promise.all([sweeping?.catch(() => undefined), sweepAgain?.catch(() => undefined), reconciler.stop(), ...fanOutStarts, ...healthWakes]);
    },

    /**
     * After a disable through the API: wakes the endpoint's health workflow, which stops the
     * deliveries still waiting to retry. Not awaited by the route: the disable has committed, and
     * an unreachable Temporal must not hold the answer. A failure is logged; those deliveries then
     * end at their next timer, when the attempt finds the endpoint disabled. `stop()` waits for it.
     */
    endpointDisabled(endpointId: string): void {
      track(
        healthWakes,
        workflows.signalWithStart(endpointHealth, wakeEndpointHealth(endpointId, taskQueue)).then(
          () => undefined,
          (err: unknown) => {
            logger.warn({ err, endpointId }, 'could not wake the health workflow of a disabled endpoint; its waiting deliveries end at their timers');
          },
        ),
      );
    },

    /**
     * After an endpoint's or an application's deletion: wakes the workflows it left running, so
     * they end now (`deleted-endpoints.ts`). Not awaited by the route; `stop()` waits for it.
     */
    endpointsDeleted(scope: Parameters<typeof wakeDeletedEndpointWorkflows>[2]): void {
      track(
        healthWakes,
        wakeDeletedEndpointWorkflows(workflows, taskQueue, scope).then(
          (woken) => {
            if (woken > 0) logger.info({ ...scope, woken }, 'woke the workflows a deletion left running, so they end');
          },
          (err: unknown) => logger.warn({ err, ...scope }, 'could not wake the workflows a deletion left running; they end at their timers'),
        ),
      );
    },

    /** Resend (see `deliveryResender`); throws if Temporal refuses, with the store as it was. */
    resend: deliveryResender(store, workflows, taskQueue, logger),

    /** Starts a test send's delivery (`test-send-starter.ts`); throws for the route to answer 503. */
    testSend: (d: Parameters<typeof tests.testSend>[0]) => tests.testSend(d),

    ...recoveryStarter(workflows, taskQueue),
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
