/**
 * The API process's Temporal starts and signals, bounded. Unbounded, the client retries a call to
 * an unreachable Temporal for about 20 s: a resend, a test send or a recovery answered its 503
 * only then, and the dispatcher's sweep held a shutdown for close to a minute.
 *
 * - Each call has `deadlineMs`. A call that timed out may still have reached Temporal; every
 *   caller already treats a failed start as "try again" (the sweep finds a running workflow).
 * - `shutdown` aborts the calls under way and fails new ones at once, so stopping the process
 *   does not wait on Temporal. What they were for is in the store and the next process's sweep
 *   starts it.
 */
import type { Client, WorkflowClient } from '@temporalio/client';
import type { WorkflowStarter } from './dispatcher';

/** Room for a slow Temporal under load and a few of the client's retries; well under a client's timeout. */
export const TEMPORAL_CALL_DEADLINE_MS = 5_000;

export function boundedWorkflows(client: Pick<Client, 'workflow' | 'connection'>, shutdown: AbortSignal, deadlineMs = TEMPORAL_CALL_DEADLINE_MS): WorkflowStarter {
  const { workflow, connection } = client;
  // The client cancels a call when the signal fires, but not one whose request it has not sent
  // yet (still connecting) nor one started after: the race answers those at once.
  const stopped = new Promise<never>((_resolve, reject) => {
    const refuse = () => reject(new Error('Hookline is shutting down: the Temporal call was abandoned'));
    if (shutdown.aborted) refuse();
    else shutdown.addEventListener('abort', refuse, { once: true });
  });
  stopped.catch(() => undefined);
  const bounded = <R>(call: () => Promise<R>): Promise<R> =>
    Promise.race([connection.withAbortSignal(shutdown, () => connection.withDeadline(Date.now() + deadlineMs, call)), stopped]);
  const start: WorkflowClient['start'] = (wf, options) => bounded(() => workflow.start(wf, options));
  const signalWithStart: WorkflowClient['signalWithStart'] = (wf, options) => bounded(() => workflow.signalWithStart(wf, options));
  // A listing's pages are read as it is iterated: each read is bounded.
  const list: WorkflowClient['list'] = (options) => {
    const all = workflow.list(options);
    async function* pages() {
      const it = all[Symbol.asyncIterator]();
      for (;;) {
        const next = await bounded(() => it.next());
        if (next.done) return;
        yield next.value;
      }
    }
    return Object.assign(pages(), { intoHistories: all.intoHistories.bind(all) });
  };
  // A handle's one-shot calls are bounded; `result()` (which waits for the run to end) is not.
  const getHandle: WorkflowClient['getHandle'] = (...args) =>
    new Proxy(workflow.getHandle(...args), {
      get(handle, name, receiver) {
        const value: unknown = Reflect.get(handle, name, receiver);
        if (typeof value !== 'function' || !BOUNDED_HANDLE_CALLS.has(name)) return value;
        return (...callArgs: unknown[]) => bounded(() => (value as (...a: unknown[]) => Promise<unknown>).apply(handle, callArgs));
      },
    });
  return { start, signalWithStart, getHandle, list };
}

const BOUNDED_HANDLE_CALLS = new Set<string | symbol>(['describe', 'query', 'signal', 'terminate', 'cancel']);
