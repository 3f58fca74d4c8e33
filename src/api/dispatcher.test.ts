/**
 * The dispatcher's bookkeeping, with a fake Temporal client and a fake store slice: which calls
 * count toward the in-flight bound, and what a failed test-send start leaves behind. The real
 * paths (Temporal, the store) are covered end to end in test/.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../domain/model';
import type { Store } from '../store';
import { createDispatcher, type EventRef, type WorkflowStarter } from './dispatcher';

/** A client whose calls never settle until `release()`, counting what was asked of it. */
function hangingWorkflows() {
  const calls = { start: 0, signalWithStart: 0 };
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const workflows = {
    start: async () => {
      calls.start++;
      await gate;
    },
    signalWithStart: async () => {
      calls.signalWithStart++;
      await gate;
    },
    getHandle: () => {
      throw new Error('not used');
    },
  } as unknown as WorkflowStarter;
  return { workflows, calls, release: () => release() };
}

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const eventRef = (n: number): EventRef => ({ id: `evt_${n}`, appId: 'app_1', type: 'order.created', channels: null, endpointIds: null });

const testDelivery = { id: 'dlv_1', appId: 'app_1', eventId: 'evt_1', endpointId: 'ep_1', eventType: 'test.event' } as unknown as Delivery;

describe('createDispatcher', () => {
  it('keeps health wakes out of the fan-out bound: 300 hanging wakes do not stop a dispatch', async () => {
    const t = hangingWorkflows();
    const dispatcher = createDispatcher({ workflows: t.workflows, store: {} as Store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger: capturedLogger().logger });
    for (let i = 0; i < 300; i++) dispatcher.endpointDisabled(`ep_${i}`);
    dispatcher.dispatch(eventRef(1));
    expect(t.calls).toEqual({ start: 1, signalWithStart: 300 });
    t.release();
    await dispatcher.stop();
  });

  it('starts no more than 256 fan-outs at once (the sweep starts the rest), and stop() waits for every call under way', async () => {
    const t = hangingWorkflows();
    const dispatcher = createDispatcher({ workflows: t.workflows, store: {} as Store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger: capturedLogger().logger });
    for (let i = 0; i < 300; i++) dispatcher.dispatch(eventRef(i));
    dispatcher.endpointDisabled('ep_1');
    expect(t.calls).toEqual({ start: 256, signalWithStart: 1 });
    let stopped = false;
    const stopping = dispatcher.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    t.release();
    await stopping;
  });

  it('closes a test send whose start failed as not started, and logs when even that fails', async () => {
    const refused = new Error('temporal unavailable');
    const workflows = { start: () => Promise.reject(refused) } as unknown as WorkflowStarter;
    const closed: string[] = [];
    const store = { deliveries: { failUnstarted: async (id: string) => (closed.push(id), true) } } as unknown as Store;
    const { logger, lines } = capturedLogger();
    await expect(createDispatcher({ workflows, store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger }).testSend(testDelivery)).rejects.toBe(refused);
    expect(closed).toEqual(['dlv_1']);
    expect(lines).toEqual([]);

    const broken = { deliveries: { failUnstarted: () => Promise.reject(new Error('database down')) } } as unknown as Store;
    await expect(createDispatcher({ workflows, store: broken, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger }).testSend(testDelivery)).rejects.toBe(refused);
    expect(lines).toEqual([expect.objectContaining({ level: 50, deliveryId: 'dlv_1', msg: expect.stringContaining('could not be closed') })]);
  });

  it('answers a test send whose own start failed as sent when a sweep started it meanwhile (the row could not be closed)', async () => {
    const workflows = { start: () => Promise.reject(new Error('deadline exceeded')) } as unknown as WorkflowStarter;
    const store = { deliveries: { failUnstarted: async () => false } } as unknown as Store;
    const { logger, lines } = capturedLogger();
    await expect(createDispatcher({ workflows, store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger }).testSend(testDelivery)).resolves.toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ level: 30, deliveryId: 'dlv_1', msg: expect.stringContaining('a sweep had started it') })]);
  });

  it('a sweep skips an event whose start keeps failing, starts the ones after it, and tries it again next round', async () => {
    const due = [eventRef(1), eventRef(2), eventRef(3)];
    const marked: string[] = [];
    const store = {
      events: {
        undispatched: async () => due.filter((e) => !marked.includes(e.id)),
        markDispatched: async (id: string) => void marked.push(id),
      },
      endpoints: { resolveForEvent: async () => [{ id: 'ep_1' }] },
      deliveries: { unstartedTests: async () => [] },
    } as unknown as Store;
    const starts: string[] = [];
    const workflows = {
      start: async (_wf: unknown, options: { workflowId: string }) => {
        starts.push(options.workflowId);
        if (options.workflowId === 'fanout/evt_1') throw new Error('search attribute refused');
      },
    } as unknown as WorkflowStarter;
    const log = capturedLogger();
    const dispatcher = createDispatcher({ workflows, store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger: log.logger });
    expect(await dispatcher.sweep()).toBe(2);
    expect(marked).toEqual(['evt_2', 'evt_3']);
    expect(log.lines.filter((l) => l.eventId === 'evt_1')).toHaveLength(1);
    expect(await dispatcher.sweep()).toBe(0);
    expect(starts).toEqual(['fanout/evt_1', 'fanout/evt_2', 'fanout/evt_3', 'fanout/evt_1']);
    await dispatcher.stop();
  });

  it('a sweep round stops after three failed starts in a row: Temporal is not answering', async () => {
    const store = {
      events: { undispatched: async () => [1, 2, 3, 4, 5].map(eventRef), markDispatched: async () => undefined },
      endpoints: { resolveForEvent: async () => [{ id: 'ep_1' }] },
      deliveries: { unstartedTests: async () => [] },
    } as unknown as Store;
    let starts = 0;
    const workflows = {
      start: async () => {
        starts++;
        throw new Error('unavailable');
      },
    } as unknown as WorkflowStarter;
    const dispatcher = createDispatcher({ workflows, store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger: capturedLogger().logger });
    expect(await dispatcher.sweep()).toBe(0);
    expect(starts).toBe(3);
    await dispatcher.stop();
  });

  it('a sweep asked for while one is under way runs again after it, once for every caller meanwhile, and counts both', async () => {
    // The first round lists before evt_2 commits; it must not be the answer to a later caller.
    const committed = [eventRef(1)];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let listings = 0;
    const store = {
      events: {
        undispatched: async () => {
          const listed = [...committed];
          if (listings++ === 0) await held;
          return listed;
        },
        markDispatched: async (id: string) => void committed.splice(committed.findIndex((e) => e.id === id), 1),
      },
      endpoints: { resolveForEvent: async () => [{ id: 'ep_1' }] },
      deliveries: { unstartedTests: async () => [] },
    } as unknown as Store;
    const starts: string[] = [];
    const workflows = { start: async (_wf: unknown, options: { workflowId: string }) => void starts.push(options.workflowId) } as unknown as WorkflowStarter;
    const dispatcher = createDispatcher({ workflows, store, taskQueue: 'q', fanOutWindow: 10, graceMs: 0, logger: capturedLogger().logger });
    const first = dispatcher.sweep();
    committed.push(eventRef(2));
    const [second, third] = [dispatcher.sweep(), dispatcher.sweep()];
    expect(second).toBe(third);
    release();
    expect(await first).toBe(1);
    // What both rounds started: the one it joined, and the one after it.
    expect(await second).toBe(2);
    expect(starts).toEqual(['fanout/evt_1', 'fanout/evt_2']);
    expect(listings).toBe(2);
    await dispatcher.stop();
  });
});
