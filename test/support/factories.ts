/** Fixtures through the public API, with defaults a test overrides only where it matters. */
import { expect } from 'vitest';
import type { ApiClient } from './api-client';

let counter = 0;

export async function createApp(api: ApiClient, overrides: Record<string, unknown> = {}) {
  const res = await api.post('/v1/apps', { name: `app ${++counter}`, retry_schedule: ['200ms', '400ms'], ...overrides });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; uid: string | null; [k: string]: unknown };
}

export async function createEndpoint(api: ApiClient, appId: string, overrides: Record<string, unknown> = {}) {
  const res = await api.post(`/v1/apps/${appId}/endpoints`, { url: 'http://127.0.0.1:9/unused', ...overrides });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; url: string; [k: string]: unknown };
}

export async function sendEvent(api: ApiClient, appId: string, overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await api.post(`/v1/apps/${appId}/events`, { type: 'invoice.paid', data: { invoice: `inv_${++counter}`, amount: 4200 }, ...overrides }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body as { id: string; [k: string]: unknown };
}

export interface DeliveryJson {
  id: string;
  status: string;
  event_id: string;
  endpoint_id: string;
  attempt_count: number;
  next_attempt_at: string | null;
  failure_reason: string | null;
  attempts?: { attempt_number: number; trigger: string; response_status: number | null; error_code: string | null }[];
}

export async function deliveriesOf(api: ApiClient, appId: string, eventId: string): Promise<DeliveryJson[]> {
  const res = await api.get(`/v1/apps/${appId}/events/${eventId}/deliveries`);
  expect(res.status).toBe(200);
  return (res.body as { data: DeliveryJson[] }).data;
}

export async function deliveryOf(api: ApiClient, appId: string, deliveryId: string): Promise<DeliveryJson> {
  const res = await api.get(`/v1/apps/${appId}/deliveries/${deliveryId}`);
  expect(res.status).toBe(200);
  return res.body as DeliveryJson;
}
