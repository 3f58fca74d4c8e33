/**
 * The API process's Temporal starts and signals, bounded. Unbounded, the client retries a call to
 * an unreachable Temporal for about 20 s: a resend, a test send or a recovery answered its 503
 * only then, and the dispatcher's sweep held a shutdown for close to a minute.
 *
 * - Each call has `deadlineMs`. A call that timed out may still have reached Temporal; every
 *   caller already treats a failed start as "try again" (the sweep finds a running workflow).
 * - `shutdown` aborts the calls under way and fails new ones at once, so stopping the process
 *   waits on Temporal no longer than the API's drain (server.ts). An aborted event start is in
 *   the store, and the next process's sweep starts it; an aborted test send's delivery is closed
 *   `not_started`, and an aborted resend or recovery answers 503, for the client to retry.
 */
import { setMaxListeners } from 'node:events';
import type { Client, WorkflowClient } from '@temporalio/client';
import type { WorkflowStarter } from './dispatcher';

/** Room for a slow Temporal under load and a few of the client's retries; well under a client's timeout. */
export const TEMPORAL_CALL_DEADLINE_MS = 5_000;
/**
 * A resend's signal gets longer: a client that reads a 503 for a signal that reached Temporal
 * late sends the resend again, and the receiver gets a second POST. (A start is deduplicated by
 * its workflow id, and a recovery's by its claims.)
 */
export const SIGNAL_DEADLINE_MS = 15_000;

export function boundedWorkflows(client: Pick<Client, 'workflow' | 'connection'>, shutdown: AbortSignal, deadlineMs = TEMPORAL_CALL_DEADLINE_MS, signalDeadlineMs = SIGNAL_DEADLINE_MS): WorkflowStarter {
  const { workflow, connection } = client;
  // One listener per call in flight, each removed when its call ends.
  setMaxListeners(0, shutdown);
  /**
   * Each call has its own abort signal, tied to `shutdown` only while it runs: the client adds a
   * listener to the signal it is given and never removes it. The client cancels a call when the
   * signal fires, but not one whose request it has not sent yet (still connecting): the race
   * answers those at once.
   */
  const bounded = async <R>(call: () => Promise<R>, ms = deadlineMs): Promise<R> => {
    if (shutdown.aborted) throw abandoned();
    const own = new AbortController();
    const stop = () => own.abort();
    shutdown.addEventListener('abort', stop, { once: true });
    try {
      const stopped = new Promise<never>((_resolve, reject) => own.signal.addEventListener('abort', () => reject(abandoned()), { once: true }));
      return await Promise.race([connection.withAbortSignal(own.signal, () => connection.withDeadline(Date.now() + ms, call)), stopped]);
    } finally {
      shutdown.removeEventListener('abort', stop);
    }
  };
  const start: WorkflowClient['start'] = (wf, options) => bounded(() => workflow.start(wf, options));
  const signalWithStart: WorkflowClient['signalWithStart'] = (wf, options) => bounded(() => workflow.signalWithStart(wf, options), signalDeadlineMs);
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

const abandoned = () => new Error('Hookline is shutting down: the Temporal call was abandoned');

const BOUNDED_HANDLE_CALLS = new Set<string | symbol>(['describe', 'query', 'signal', 'terminate', 'cancel']);
