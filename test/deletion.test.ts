/**
 * Deleting an endpoint or an application ends the workflows it left running (a delivery waiting
 * on a retry timer, the endpoint's health workflow) now, not at their next wake-up an hour away.
 */
import { describe, expect, it } from 'vitest';
import { deliveryWorkflowId } from '../src/workflows/delivery';
import { endpointHealthWorkflowId } from '../src/workflows/endpoint-health';
import { createApp, createEndpoint, deliveriesOf, sendEvent } from './support/factories';
import { storeKinds, type TestHookline, useHooklineAndReceiver } from './support/hookline';
import { type Receiver } from './support/receiver';
import { waitUntil } from './support/wait';

describe.each(storeKinds)('deletion on %s', (kind) => {
  let t: TestHookline;
  let r: Receiver;
  useHooklineAndReceiver(kind, (started, receiver) => ([t, r] = [started, receiver]), {}, { status: 500 });

  /**
   * An endpoint of `appId` whose one delivery failed once and waits an hour for its retry. The
   * event goes to the application's earlier endpoints too: their first attempts are waited for
   * as well, so that none is still under way when a test counts the receiver's requests.
   */
  async function waitingDelivery(appId: string) {
    const ep = await createEndpoint(t.api, appId, { url: `${r.url}/fails` });
    const event = await sendEvent(t.api, appId);
    await waitUntil(() => deliveriesOf(t.api, appId, event.id), (ds) => ds.length > 0 && ds.every((d) => d.attempt_count === 1 && d.next_attempt_at !== null), 20_000, 'the first attempts');
    const handles = [deliveryWorkflowId(event.id, ep.id), endpointHealthWorkflowId(ep.id)].map((id) => t.hookline.client.workflow.getHandle(id));
    // Both are running: the delivery on its timer, the health workflow watching the failure.
    await waitUntil(() => Promise.all(handles.map((h) => h.describe().then((d) => d.status.name, () => 'none'))), (s) => s.every((x) => x === 'RUNNING'), 20_000, 'both workflows running');
    return handles;
  }
  const statuses = (handles: Awaited<ReturnType<typeof waitingDelivery>>) => Promise.all(handles.map((h) => h.describe().then((d) => d.status.name)));

  it('deleting an endpoint ends its waiting delivery and its health workflow at once', async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const handles = await waitingDelivery(app.id);
    const endpointId = (await t.api.get(`/v1/apps/${app.id}/endpoints`)).body.data[0].id as string;
    expect((await t.api.request('DELETE', `/v1/apps/${app.id}/endpoints/${endpointId}`)).status).toBe(204);
    expect(await waitUntil(() => statuses(handles), (s) => s.every((x) => x === 'COMPLETED'), 20_000, 'both workflows ended')).toEqual(['COMPLETED', 'COMPLETED']);
    expect(r.requests.filter((q) => q.path === '/fails')).toHaveLength(1);
  });

  it("deleting an application ends every endpoint's waiting deliveries and health workflows", async () => {
    const app = await createApp(t.api, { retry_schedule: ['1h'] });
    const [first, second] = [await waitingDelivery(app.id), await waitingDelivery(app.id)];
    const before = r.requests.length;
    expect((await t.api.request('DELETE', `/v1/apps/${app.id}`)).status).toBe(204);
    const ended = await waitUntil(() => statuses([...first, ...second]), (s) => s.every((x) => x === 'COMPLETED'), 20_000, 'all four workflows ended');
    expect(ended).toHaveLength(4);
    expect(r.requests.length).toBe(before);
  });
});
