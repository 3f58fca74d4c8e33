import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';

const secret = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;

/** The keys every process outside the embedded setup must be given. */
const keys = { HOOKLINE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), HOOKLINE_ADMIN_KEY: 'hk_admin_test_0123456789', DATABASE_URL: 'postgres://db/hookline' };

describe('loadConfig', () => {
  it('has embedded defaults', () => {
    const c = loadConfig({});
    expect(c.role).toBe('all');
    expect(c.apiPort).toBe(8080);
    expect(c.fanOutWindow).toBe(250);
    expect(c.workerMaxCachedWorkflows).toBe(250);
    expect(c.workerTaskSlots).toBe(200);
    expect(c.workerMaxInFlightPerEndpoint).toBe(20);
    expect(c.dispatchIntervalMs).toBe(10_000);
    expect(c.temporal.address).toBeUndefined();
  });

  it.each([
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '0' }, (c: ReturnType<typeof loadConfig>) => c.workerMaxCachedWorkflows, 0],
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '50' }, (c: ReturnType<typeof loadConfig>) => c.workerMaxCachedWorkflows, 50],
    [{ HOOKLINE_WORKER_TASK_SLOTS: '500' }, (c: ReturnType<typeof loadConfig>) => c.workerTaskSlots, 500],
    [{ HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT: '5' }, (c: ReturnType<typeof loadConfig>) => c.workerMaxInFlightPerEndpoint, 5],
    [{ HOOKLINE_FAN_OUT_WINDOW: '10' }, (c: ReturnType<typeof loadConfig>) => c.fanOutWindow, 10],
    [{ HOOKLINE_ROLE: 'worker', ...keys }, (c: ReturnType<typeof loadConfig>) => c.role, 'worker'],
    [{ DATABASE_URL: '' }, (c: ReturnType<typeof loadConfig>) => c.databaseUrl, undefined],
    // Event-loop shedding is on by default only where the API has the loop to itself.
    [{}, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 0],
    [{ HOOKLINE_ROLE: 'api', ...keys }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 200],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '0', ...keys }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 0],
    [{ HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '500' }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 500],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '', ...keys }, (c: ReturnType<typeof loadConfig>) => c.apiMaxEventLoopDelayMs, 200],
    [{ HOOKLINE_METRICS_PORT: '' }, (c: ReturnType<typeof loadConfig>) => c.metricsPort, undefined],
    // Empty is unset, for every variable: the default, not 0 (a random port) or false.
    [{ HOOKLINE_API_PORT: '' }, (c: ReturnType<typeof loadConfig>) => c.apiPort, 8080],
    [{ HOOKLINE_TEMPORAL_PORT: '' }, (c: ReturnType<typeof loadConfig>) => c.temporal.devServerPort, 7233],
    [{ HOOKLINE_API_RATE_LIMIT_PER_S: '' }, (c: ReturnType<typeof loadConfig>) => c.apiRateLimit.rate.perS, 100],
    [{ HOOKLINE_EGRESS_PROXY_URL: 'http://proxy.internal:3128' }, (c: ReturnType<typeof loadConfig>) => c.egressProxyUrl, 'http://proxy.internal:3128'],
    [{ HOOKLINE_API_RATE_LIMIT_PER_S: '0.5' }, (c: ReturnType<typeof loadConfig>) => c.apiRateLimit.rate.perS, 0.5],
  ])('reads %o', (env, pick, expected) => {
    expect(pick(loadConfig(env))).toBe(expected);
  });

  it.each([
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: '-1' }, 'HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS'],
    [{ HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: 'lots' }, 'HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS'],
    [{ HOOKLINE_FAN_OUT_WINDOW: '0' }, 'HOOKLINE_FAN_OUT_WINDOW'],
    [{ HOOKLINE_ROLE: 'both' }, 'HOOKLINE_ROLE'],
    [{ HOOKLINE_API_PORT: '70000' }, 'HOOKLINE_API_PORT'],
    // Decimal digits only: coercion read these as 8080, 1000 and 80.
    [{ HOOKLINE_API_PORT: '0x1F90' }, 'HOOKLINE_API_PORT: must be a number in decimal digits'],
    [{ HOOKLINE_DISPATCH_INTERVAL_MS: '1e3' }, 'HOOKLINE_DISPATCH_INTERVAL_MS'],
    [{ HOOKLINE_API_PORT: ' 80' }, 'HOOKLINE_API_PORT'],
    [{ HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: '-5' }, 'HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS'],
    // Keys are generated only for the embedded setup: elsewhere each process would make its own.
    [{ DATABASE_URL: 'postgres://db/hookline' }, 'set HOOKLINE_ENCRYPTION_KEY and HOOKLINE_ADMIN_KEY'],
    [{ DATABASE_URL: 'postgres://db/hookline', HOOKLINE_ENCRYPTION_KEY: keys.HOOKLINE_ENCRYPTION_KEY }, 'set HOOKLINE_ADMIN_KEY:'],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_ADMIN_KEY: 'hk_admin_test_0123456789' }, 'set HOOKLINE_ENCRYPTION_KEY:'],
    // Split roles share PostgreSQL: a worker on a PGlite of its own would lose events.
    [{ HOOKLINE_ROLE: 'worker', HOOKLINE_ENCRYPTION_KEY: keys.HOOKLINE_ENCRYPTION_KEY }, 'set DATABASE_URL: with HOOKLINE_ROLE=worker'],
    [{ HOOKLINE_ROLE: 'api', HOOKLINE_ENCRYPTION_KEY: keys.HOOKLINE_ENCRYPTION_KEY, HOOKLINE_ADMIN_KEY: 'hk_admin_test_0123456789' }, 'set DATABASE_URL: with HOOKLINE_ROLE=api'],
    [{ HOOKLINE_ADMIN_KEY: 'short' }, 'HOOKLINE_ADMIN_KEY must be at least 16 characters'],
    [{ HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT: '0' }, 'HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT'],
    [{ HOOKLINE_WORKER_TASK_SLOTS: '1' }, 'HOOKLINE_WORKER_TASK_SLOTS'],
    [{ HOOKLINE_ROLE: 'worker' }, 'set HOOKLINE_ENCRYPTION_KEY:'],
    // TLS to Temporal is for a cluster of your own: the local dev server speaks plaintext.
    [{ TEMPORAL_TLS: 'true' }, 'need TEMPORAL_ADDRESS'],
    [{ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS_CERT_FILE: '/etc/hookline/client.pem' }, 'set both TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE'],
    // The operator's URL passes the endpoints' network rules, or the process does not start.
    [{ HOOKLINE_OPERATOR_WEBHOOK_URL: 'https://10.0.0.5/hooks', HOOKLINE_OPERATOR_WEBHOOK_SECRET: secret }, 'HOOKLINE_OPERATOR_WEBHOOK_URL is refused'],
    [{ HOOKLINE_OPERATOR_WEBHOOK_URL: 'http://ops.example.com/hooks', HOOKLINE_OPERATOR_WEBHOOK_SECRET: secret }, 'HOOKLINE_OPERATOR_WEBHOOK_URL is refused: scheme must be https'],
    // Settings that name a URL or a file are checked at start, and the error names the setting.
    [{ DATABASE_URL: 'notaurl', HOOKLINE_ENCRYPTION_KEY: keys.HOOKLINE_ENCRYPTION_KEY, HOOKLINE_ADMIN_KEY: keys.HOOKLINE_ADMIN_KEY }, 'DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    [{ HOOKLINE_EGRESS_PROXY_URL: 'notaurl' }, 'HOOKLINE_EGRESS_PROXY_URL: must be the http:// or https:// URL of a CONNECT proxy'],
    [{ HOOKLINE_EGRESS_PROXY_URL: 'ftp://proxy.internal' }, 'HOOKLINE_EGRESS_PROXY_URL'],
    [{ HOOKLINE_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'HOOKLINE_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
    [{ HOOKLINE_TLS_CA_FILE: __filename }, `HOOKLINE_TLS_CA_FILE: ${__filename} holds no PEM certificate`],
    [{ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'TEMPORAL_TLS_CA_FILE: cannot read'],
  ])('refuses %o, naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('an operator URL in HOOKLINE_ALLOW_SUBNETS, or on loopback in development, is accepted', () => {
    const url = (env: Record<string, string>) => loadConfig({ HOOKLINE_OPERATOR_WEBHOOK_SECRET: secret, ...env }).operatorWebhook?.url;
    expect(url({ HOOKLINE_OPERATOR_WEBHOOK_URL: 'https://10.0.0.5/hooks', HOOKLINE_ALLOW_SUBNETS: '10.0.0.0/24' })).toBe('https://10.0.0.5/hooks');
    expect(url({ HOOKLINE_OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9000/ops', HOOKLINE_ALLOW_INSECURE_URLS: 'true' })).toBe('http://127.0.0.1:9000/ops');
  });

  it('TLS to Temporal: off by default, on with TEMPORAL_TLS or an API key, with the name to verify', () => {
    const temporal = (env: Record<string, string>) => loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', ...env }).temporal;
    expect(temporal({}).tls).toBeUndefined();
    expect(temporal({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(temporal({ TEMPORAL_API_KEY: 'key' })).toMatchObject({ tls: {}, apiKey: 'key' });
    expect(temporal({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).tls).toEqual({ serverNameOverride: 'temporal.internal' });
  });

  it('a worker needs no admin key; the embedded setup with TEMPORAL_ADDRESS alone generates both', () => {
    expect(loadConfig({ HOOKLINE_ROLE: 'worker', HOOKLINE_ENCRYPTION_KEY: keys.HOOKLINE_ENCRYPTION_KEY, DATABASE_URL: keys.DATABASE_URL }).adminKey).toBeUndefined();
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).encryptionKey).toBeUndefined();
  });
});
