/**
 * Starting test sends' delivery workflows (PRODUCT.md §5: one `test` attempt, no retries), for
 * the route and for the dispatcher's sweep. A test send's delivery row is committed first, marked
 * as awaiting its start; a start confirms it, and the sweep starts any the process died before
 * starting. Its workflow id is the delivery's own, so the route's start and a sweep's can meet.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Delivery } from '../domain/model';
import { delivery, deliveryInput, deliveryWorkflowId, type DeliveryInput } from '../workflows/delivery';
import { deliverySearchAttributes } from '../workflows/search-attributes';
import type { DispatcherDeps } from './dispatcher';

/** Test sends each sweep round starts at most. */
const SWEEP_PAGE = 100;

export function createTestSendStarter({ workflows, store, taskQueue, graceMs, logger }: DispatcherDeps) {
  /**
   * Starts a test send's delivery workflow, then records that it needs no sweep; true if this
   * call started it. One already running (the route's start and a sweep's can meet) is fine.
   */
  async function start(d: Delivery): Promise<boolean> {
    const input: DeliveryInput = { ...deliveryInput(d), test: true };
    let started = true;
    try {
      await workflows.start(delivery, {
        workflowId: deliveryWorkflowId(d.eventId, d.endpointId),
        taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: deliverySearchAttributes(input),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      started = false;
    }
    // If this write fails, a later sweep's start finds the workflow running and writes it then.
    await store.deliveries.confirmStart(d.id).catch((err: unknown) => logger.warn({ err, deliveryId: d.id }, 'could not record that a test send started; a sweep will'));
    return started;
  }

  return {
    /** Test sends committed but never started (the process died in between): starts them; returns how many. */
    async sweepUnstarted(): Promise<number> {
      let started = 0;
      for (const d of await store.deliveries.unstartedTests(new Date(Date.now() - graceMs), SWEEP_PAGE)) {
        try {
          if (await start(d)) started++;
        } catch (err) {
          logger.warn({ err, deliveryId: d.id }, 'dispatcher sweep: test send start failed; the next sweep tries again');
          break;
        }
      }
      return started;
    },

    /**
     * Starts a test send's delivery. If the start fails, no workflow will ever record this
     * delivery, so it is closed as `not_started` (it would read pending for good otherwise) and
     * the start's error is rethrown for the route to answer 503; unless a sweep started it
     * meanwhile (this start was slow), which the route then reports.
     */
    async testSend(d: Delivery): Promise<void> {
      try {
        await start(d);
      } catch (err) {
        const closed = await store.deliveries.failUnstarted(d.id).catch((closeErr: unknown) => {
          logger.error({ err: closeErr, deliveryId: d.id }, 'a test send that did not start could not be closed; the sweep starts it');
          return true;
        });
        if (closed) throw err;
        logger.info({ err, deliveryId: d.id }, "a test send's start failed, but a sweep had started it");
      }
    },
  };
}
