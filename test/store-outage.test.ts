/**
 * PostgreSQL going away under a running Hookline: the process stays up, the API answers 503
 * while the store cannot be reached, and everything works again once it can. The store is
 * reached through a TCP relay the test can cut, so the suite's shared PostgreSQL is untouched.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, sendEvent } from './support/factories';
import { startWithEnv, testEnv, type TestHookline } from './support/hookline';
import { startRelay } from './support/relay';

describe.skipIf(!inject('postgresUrl'))('a PostgreSQL outage', () => {
  let t: TestHookline;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  beforeAll(async () => {
    const env = await testEnv('postgres');
    const url = new URL(env.DATABASE_URL!);
    relay = await startRelay(new URL(url));
    url.host = `127.0.0.1:${relay.port}`;
    // LOG_LEVEL error: the pool's warnings about the connections the cut ends are expected here.
    t = await startWithEnv({ ...env, DATABASE_URL: url.toString(), HOOKLINE_DB_QUERY_TIMEOUT_MS: '2000', LOG_LEVEL: 'error' });
  });
  afterAll(async () => {
    await t?.stop();
    await relay?.close();
  });

  it('keeps the process up, answers 503 store_unavailable meanwhile, and serves again once PostgreSQL is back', async () => {
    const app = await createApp(t.api);
    await sendEvent(t.api, app.id, { endpoint_ids: null });
    // The pool's connections are idle now; the server "restarts" under them.
    relay.cut();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const during = await t.api.get(`/v1/apps/${app.id}/events`);
    expect(during.status).toBe(503);
    expect(during.body.error).toMatchObject({ type: 'service_unavailable_error', code: 'store_unavailable' });
    expect(during.headers.get('retry-after')).toBe('1');
    relay.restore();
    const after = await t.api.get(`/v1/apps/${app.id}/events`);
    expect(after.status).toBe(200);
    expect(after.body.data).toHaveLength(1);
  });
});
