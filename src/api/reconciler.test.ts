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
  type Run = { type: string; workflowId: string; runId: string; status: { name: string }; attrs: Record<string, string> };
  const run = (type: string, workflowId: string, runId: string, attrs: Record<string, string>): Run => ({ type, workflowId, runId, status: { name: 'TERMINATED' }, attrs });

  function setup(runs: Run[], latest: Record<string, string>, opts: { failClose?: boolean } = {}) {
    const queries: string[] = [];
    const restarted: string[] = [];
    const closed: string[] = [];
    const workflows = {
      list: ({ query }: { query: string }) => {
        queries.push(query);
        return (async function* () {
          for (const r of runs) yield { ...r, typedSearchAttributes: { get: (k: { name: string }) => r.attrs[k.name] } };
        })();
      },
      getHandle: (id: string) => ({ describe: async () => ({ runId: latest[id] }) }),
    };
    const store = {
      events: { get: async (appId: string, id: string) => ({ id, appId, type: 'a.b', channels: null, endpointIds: null }) },
      deliveries: {
        forPair: async (eventId: string, endpointId: string) => ({ id: `dlv_${eventId}_${endpointId}`, status: 'pending', attemptCount: 1, lastAttemptAt: null }),
        closeEnded: async (id: string) => {
          if (opts.failClose) throw new Error('store down');
          closed.push(id);
          return true;
        },
      },
    };
    let now = Date.parse('2026-11-24T04:00:00Z');
    const reconciler = createReconciler({
      workflows: workflows as unknown as ReconcilerDeps['workflows'],
      store: store as unknown as ReconcilerDeps['store'],
      taskQueue: 'q',
      logger: pino({ level: 'silent' }),
      restartFanOut: async (e) => void restarted.push(e.id),
      now: () => now,
    });
    return { reconciler, queries, restarted, closed, advance: (ms: number) => (now += ms) };
  }

  it('repairs only runs that are still the latest of their workflow id', async () => {
    const { reconciler, restarted, closed } = setup(
      [
        run('fanOut', 'fanout/evt_1', 'r1', { HooklineApp: 'app_1', HooklineEvent: 'evt_1' }),
        run('fanOut', 'fanout/evt_2', 'r2', { HooklineApp: 'app_1', HooklineEvent: 'evt_2' }),
        run('delivery', 'delivery/evt_1/ep_1', 'r3', { HooklineEvent: 'evt_1', HooklineEndpoint: 'ep_1' }),
        run('delivery', 'delivery/evt_1/ep_2', 'r4', { HooklineEvent: 'evt_1', HooklineEndpoint: 'ep_2' }),
      ],
      { 'fanout/evt_1': 'r1', 'fanout/evt_2': 'newer', 'delivery/evt_1/ep_1': 'r3', 'delivery/evt_1/ep_2': 'newer' },
    );
    expect(await reconciler.reconcile()).toEqual({ fanOutsRestarted: 1, deliveriesClosed: 1 });
    expect(restarted).toEqual(['evt_1']);
    expect(closed).toEqual(['dlv_evt_1_ep_1']);
  });

  it('reads from 3 days back at first, then from a minute before the last complete round; a round with a failed repair reads its window again', async () => {
    const runs = [run('delivery', 'delivery/evt_1/ep_1', 'r1', { HooklineEvent: 'evt_1', HooklineEndpoint: 'ep_1' })];
    const ok = setup(runs, { 'delivery/evt_1/ep_1': 'r1' });
    await ok.reconciler.reconcile();
    ok.advance(600_000);
    await ok.reconciler.reconcile();
    expect(ok.queries.map((q) => q.slice(q.indexOf('CloseTime')))).toEqual(["CloseTime >= '2026-11-21T04:00:00.000Z'", "CloseTime >= '2026-11-24T03:59:00.000Z'"]);

    const failing = setup(runs, { 'delivery/evt_1/ep_1': 'r1' }, { failClose: true });
    expect(await failing.reconciler.reconcile()).toEqual({ fanOutsRestarted: 0, deliveriesClosed: 0 });
    failing.advance(600_000);
    await failing.reconciler.reconcile();
    expect(failing.queries.map((q) => q.slice(q.indexOf('CloseTime')))).toEqual(["CloseTime >= '2026-11-21T04:00:00.000Z'", "CloseTime >= '2026-11-21T04:00:00.000Z'"]);
  });
});
