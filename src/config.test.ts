import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';

describe('loadConfig', () => {
  it('has embedded defaults', () => {
    const c = loadConfig({});
    expect(c.role).toBe('all');
    expect(c.apiPort).toBe(8080);
    expect(c.fanOutWindow).toBe(250);
    expect(c.workerMaxCachedWorkflows).toBe(250);
    expect(c.dispatchIntervalMs).toBe(10_000);
    expect(c.temporal.address).toBeUndefined();
  });

  it.each([
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '0' }, (c: ReturnType<typeof loadConfig>) => c.workerMaxCachedWorkflows, 0],
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '50' }, (c: ReturnType<typeof loadConfig>) => c.workerMaxCachedWorkflows, 50],
    [{ HOOKLINE_FAN_OUT_WINDOW: '10' }, (c: ReturnType<typeof loadConfig>) => c.fanOutWindow, 10],
    [{ HOOKLINE_ROLE: 'worker' }, (c: ReturnType<typeof loadConfig>) => c.role, 'worker'],
    [{ DATABASE_URL: '' }, (c: ReturnType<typeof loadConfig>) => c.databaseUrl, undefined],
    // Event-loop shedding is on by default only where the API has the loop to itself.
    [{}, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 0],
    [{ HOOKLINE_ROLE: 'api' }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 200],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '0' }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 0],
    [{ HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '500' }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 500],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '' }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 200],
    [{ HOOKLINE_METRICS_PORT: '' }, (c: ReturnType<typeof loadConfig>) => c.metricsPort, undefined],
  ])('reads %o', (env, pick, expected) => {
    expect(pick(loadConfig(env))).toBe(expected);
  });

  it.each([
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '-1' }, 'HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS'],
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: 'lots' }, 'HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS'],
    [{ HOOKLINE_FAN_OUT_WINDOW: '0' }, 'HOOKLINE_FAN_OUT_WINDOW'],
    [{ HOOKLINE_ROLE: 'both' }, 'HOOKLINE_ROLE'],
    [{ HOOKLINE_API_PORT: '70000' }, 'HOOKLINE_API_PORT'],
    [{ HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '-5' }, 'HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS'],
  ])('refuses %o, naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });
});
