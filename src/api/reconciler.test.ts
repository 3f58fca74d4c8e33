import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createReconciler, endedRunsQuery, type ReconcilerDeps } from './reconciler';

describe('endedRunsQuery', () => {
  const since = new Date('2026-11-24T03:00:00.000Z');
  it.each([
    [
      'one type',
      'hookline',
      ['delivery'],
      "TaskQueue = 'hookline' AND (WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
    [
      'two types',
      'q',
      ['fanOut', 'delivery'],
      "TaskQueue = 'q' AND (WorkflowType = 'fanOut' OR WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
    [
      'a task queue with quotes and backslashes stays one literal',
      "it's\\q",
      ['delivery'],
      "TaskQueue = 'it\\'s\\\\q' AND (WorkflowType = 'delivery') AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= '2026-11-24T03:00:00.000Z'",
    ],
  ])('%s', (_name, taskQueue, types, expected) => {
    expect(endedRunsQuery(taskQueue, types, since)).toBe(expected);
  });
});

describe('createReconciler', () => {
  type Run = { type: string; workflowId: string; runId: string; status: { name: string }; closeTime: Date };
  const closedAt = new Date('2026-11-24T03:30:00Z');
  const run = (type: string, workflowId: string, runId: string, status = 'TERMINATED'): Run => ({ type, workflowId, runId, status: { name: status }, closeTime: closedAt });

  function setup(runs: Run[], latest: Record<string, string | string[]>, opts: { failClose?: boolean } = {}) {
    const queries: string[] = [];
    const restarted: string[] = [];
    const closed: string[] = [];
    const reopened: string[] = [];
    const describes = new Map<string, number>();
    const workflows = {
      list: ({ query }: { query: string }) => {
        queries.push(query);
        return (async function* () {
          yield* runs;
        })();
      },
      // A list of run ids: the latest run as seen by the first describe, the second, and so on.
      getHandle: (id: string) => ({
        describe: async () => {
          const n = describes.get(id) ?? 0;
          describes.set(id, n + 1);
          const answer = latest[id];
          return { runId: Array.isArray(answer) ? answer[Math.min(n, answer.length - 1)] : answer };
        },
      }),
    };
    const store = {
      events: { byId: async (id: string) => ({ id, appId: 'app_1', type: 'a.b', channels: null, endpointIds: null }) },
      deliveries: {
        forPair: async (eventId: string, endpointId: string) => ({ id: `dlv_${eventId}_${endpointId}`, status: 'pending', attemptCount: 1, lastAttemptAt: null }),
        closeEnded: async (id: string) => {
          if (opts.failClose) throw new Error('store down');
          closed.push(id);
          return true;
        },
        reopenEnded: async (id: string) => void reopened.push(id),
      },
    };
    let now = Date.parse('2026-11-24T04:00:00Z');
    const reconciler = createReconciler({
      workflows: workflows as unknown as ReconcilerDeps['workflows'],
      store: store as unknown as ReconcilerDeps['store'],
      taskQueue: 'q',
      logger: pino({ level: 'silent' }),
      restartFanOut: async (e) => {
        restarted.push(e.id);
        return true;
      },
      now: () => now,
    });
    const since = () => queries.map((q) => q.slice(q.indexOf('CloseTime')));
    return { reconciler, since, restarted, closed, reopened, advance: (ms: number) => (now += ms) };
  }

  it('repairs only runs that are still the latest of their workflow id, and leaves a canceled fan-out alone', async () => {
    const { reconciler, restarted, closed } = setup(
      [
        run('fanOut', 'fanout/evt_1', 'r1'),
        run('fanOut', 'fanout/evt_2', 'r2'),
        run('fanOut', 'fanout/evt_3', 'r3', 'CANCELLED'),
        run('delivery', 'delivery/evt_1/ep_1', 'r4'),
        run('delivery', 'delivery/evt_1/ep_2', 'r5'),
      ],
      { 'fanout/evt_1': 'r1', 'fanout/evt_2': 'newer', 'fanout/evt_3': 'r3', 'delivery/evt_1/ep_1': 'r4', 'delivery/evt_1/ep_2': 'newer' },
    );
    expect(await reconciler.reconcile()).toEqual({ fanOutsRestarted: 1, deliveriesClosed: 1 });
    expect(restarted).toEqual(['evt_1']);
    expect(closed).toEqual(['dlv_evt_1_ep_1']);
  });

  it('reopens a delivery it closed when a resend started a newer run meanwhile', async () => {
    const { reconciler, closed, reopened } = setup([run('delivery', 'delivery/evt_1/ep_1', 'r1')], { 'delivery/evt_1/ep_1': ['r1', 'resent'] });
    expect(await reconciler.reconcile()).toEqual({ fanOutsRestarted: 0, deliveriesClosed: 0 });
    expect(closed).toEqual(['dlv_evt_1_ep_1']);
    expect(reopened).toEqual(['dlv_evt_1_ep_1']);
  });

  it('reads from 3 days back at first, then from 5 minutes before the last round; a run it could not repair is read again', async () => {
    const runs = [run('delivery', 'delivery/evt_1/ep_1', 'r1')];
    const ok = setup(runs, { 'delivery/evt_1/ep_1': 'r1' });
    await ok.reconciler.reconcile();
    ok.advance(600_000);
    await ok.reconciler.reconcile();
    expect(ok.since()).toEqual(["CloseTime >= '2026-11-21T04:00:00.000Z'", "CloseTime >= '2026-11-24T03:55:00.000Z'"]);

    const failing = setup(runs, { 'delivery/evt_1/ep_1': 'r1' }, { failClose: true });
    expect(await failing.reconciler.reconcile()).toEqual({ fanOutsRestarted: 0, deliveriesClosed: 0 });
    failing.advance(600_000);
    await failing.reconciler.reconcile();
    // From 5 minutes before the close it failed on, not from the first round's start.
    expect(failing.since()).toEqual(["CloseTime >= '2026-11-21T04:00:00.000Z'", "CloseTime >= '2026-11-24T03:25:00.000Z'"]);
  });

  it('the periodic round is skipped while one is under way', async () => {
    const { reconciler } = setup([], {});
    const first = reconciler.reconcile();
    await Promise.resolve();
    await Promise.resolve();
    expect(reconciler.reconcileIfIdle()).toBeUndefined();
    await first;
    expect(reconciler.reconcileIfIdle()).toBeInstanceOf(Promise);
  });
});
