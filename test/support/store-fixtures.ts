/**
 * Fixtures for tests that work on a store directly (activities, store queries, the resender):
 * an in-memory PGlite store and the rows a delivery needs, with defaults a test overrides.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Application, Endpoint } from '../../src/domain/model';
import { openStore, type Store } from '../../src/store';
import type { NewApplication } from '../../src/store/apps';
import type { NewEndpoint } from '../../src/store/endpoints';
import type { NewEvent } from '../../src/store/events';
import { createSecretBox } from '../../src/store/secret-box';

/** A new in-memory store with a random secret key; about 3 s to open. */
export function openMemoryStore(): Promise<Store> {
  return openStore({}, createSecretBox(randomBytes(32)));
}

/** An in-memory store for the calling suite: opened before its tests, closed after them. */
export function useMemoryStore(opened: (store: Store) => void): void {
  let store: Store | undefined;
  beforeAll(async () => {
    store = await openMemoryStore();
    opened(store);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });
}

export function storedApp(store: Store, overrides: Partial<NewApplication> = {}): Promise<Application> {
  return store.apps.create({ name: 'test', uid: null, retrySchedule: ['1h'], payloadFormat: 'envelope', disablePolicy: null, metadata: {}, ...overrides });
}

export async function storedEndpoint(store: Store, appId: string, overrides: Partial<NewEndpoint> = {}): Promise<Endpoint> {
  const endpoint = await store.endpoints.create(appId, 1_000, {
    uid: null,
    url: 'https://example.com/hook',
    description: '',
    eventTypes: ['*'],
    channels: null,
    signatureScheme: 'standard',
    signatureHeader: null,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    headers: null,
    timeoutMs: 1000,
    rateLimitPerS: null,
    retrySchedule: null,
    metadata: {},
    ...overrides,
  });
  if (!endpoint) throw new Error('endpoint limit reached');
  return endpoint;
}

/** An event of type `a.b` and its one delivery to `endpointId` (pending, not started). */
export async function storedDelivery(store: Store, appId: string, endpointId: string, event: Partial<NewEvent> = {}): Promise<{ eventId: string; deliveryId: string }> {
  const inserted = await store.events.insert(appId, { type: 'a.b', dataJson: '{}', previousDataJson: null, channels: null, endpointIds: null, idempotencyKey: null, ...event });
  if (!inserted) throw new Error(`no application ${appId}`);
  const [d] = await store.deliveries.createForEvent({ id: inserted.event.id, appId, type: inserted.event.type }, [{ id: endpointId, status: 'active' }]);
  return { eventId: inserted.event.id, deliveryId: d!.id };
}
