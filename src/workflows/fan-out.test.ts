/**
 * Workflow tests: the real fan-out workflow (and the delivery children it starts) on the shared
 * dev server, with a fake window resolver over seven endpoints. One bundle per run, unique ids.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorkflowWorker } from '../../test/support/workflow-worker';
import { fanOut } from './fan-out';

describe('fanOut workflow', () => {
  const windows: { after: string | null; limit: number }[] = [];
  /** Per event: a window's resolution waits for this promise (a test holds a window open). */
  const windowGates = new Map<string, Promise<void>>();
  const { env, taskQueue } = useWorkflowWorker({
    async resolveEndpoints({ eventId, after, limit }) {
      windows.push({ after, limit });
      await windowGates.get(eventId);
      const all = Array.from({ length: 7 }, (_, i) => `ep_${i}`);
      const start = after === null ? 0 : all.indexOf(after) + 1;
      const page = all.slice(start, start + limit);
      return { deliveries: page.map((ep) => ({ deliveryId: `dlv_${eventId}_${ep}`, endpointId: ep })), skipped: 0, nextAfter: page.length === limit ? page[page.length - 1]! : null };
    },
  });

  it('fans out in windows, continuing as new, and starts each child once', async () => {
    const eventId = `evt_${randomUUID()}`;
    windows.length = 0;
    const handle = await env().client.workflow.start(fanOut, { taskQueue, workflowId: `fanout/${eventId}`, args: [{ appId: 'app_1', eventId, eventType: 'a.b', windowSize: 3 }] });
    expect(await handle.result()).toEqual({ deliveries: 7 });
    expect(windows).toEqual([
      { after: null, limit: 3 },
      { after: 'ep_2', limit: 3 },
      { after: 'ep_5', limit: 3 },
    ]);
    for (let i = 0; i < 7; i++) {
      const child = env().client.workflow.getHandle(`delivery/${eventId}/ep_${i}`);
      expect(await child.result()).toEqual({ status: 'succeeded', attempts: 1 });
    }
  });

  it('a canceled fan-out finishes its window, starts no other, and ends canceled', async () => {
    const eventId = `evt_${randomUUID()}`;
    let open!: () => void;
    windowGates.set(eventId, new Promise<void>((resolve) => (open = resolve)));
    const before = windows.length;
    const handle = await env().client.workflow.start(fanOut, { taskQueue, workflowId: `fanout/${eventId}`, args: [{ appId: 'app_1', eventId, eventType: 'a.b', windowSize: 3 }] });
    for (let tries = 0; windows.length === before; tries++) {
      if (tries > 100) throw new Error('the window never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    await handle.cancel();
    open();
    await expect(handle.result()).rejects.toMatchObject({ cause: { name: 'CancelledFailure' } });
    expect(windows.length - before).toBe(1);
    // The window's children started (their rows are committed) and run on; the next window's never did.
    for (let i = 0; i < 3; i++) {
      expect(await env().client.workflow.getHandle(`delivery/${eventId}/ep_${i}`).result()).toEqual({ status: 'succeeded', attempts: 1 });
    }
    await expect(env().client.workflow.getHandle(`delivery/${eventId}/ep_3`).describe()).rejects.toThrow(/not found/i);
  });
});
