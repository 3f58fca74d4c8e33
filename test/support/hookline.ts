/**
 * Starts a real Hookline (API, worker, dispatcher) in this process against the shared dev server,
 * on PGlite or on a fresh PostgreSQL database, with its own task queue and data directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Resolver } from '../../src/activities/guarded-lookup';
import type { WorkflowStarter } from '../../src/api/dispatcher';
import { loadConfig } from '../../src/config';
import { startHookline, type Hookline } from '../../src/hookline';
import { createLogger, type Logger } from '../../src/logger';
import { apiClient, type ApiClient } from './api-client';
import { startReceiver, type Behaviour, type Receiver } from './receiver';

export type StoreKind = 'pglite' | 'postgres';

/** Every store the suite runs on here: PGlite always, PostgreSQL when a server is available. */
export const storeKinds: StoreKind[] = inject('postgresUrl') ? ['pglite', 'postgres'] : ['pglite'];

export const ADMIN_KEY = 'hk_test_admin_key';

/** Creates an empty database on the test PostgreSQL server and returns its URL. */
export async function createDatabase(): Promise<string> {
  const serverUrl = inject('postgresUrl');
  const name = `hookline_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestHookline {
  hookline: Hookline;
  api: ApiClient;
  env: Record<string, string>;
  dataDir: string;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface TestHooklineOptions {
  env?: Record<string, string>;
  logger?: Logger;
  resolve?: Resolver;
  wrapWorkflows?: (w: WorkflowStarter) => WorkflowStarter;
}

/**
 * A `wrapWorkflows` that replaces some of the API's Temporal calls (to inject failures) and
 * passes the others through.
 */
export function overrideWorkflows(overrides: Partial<WorkflowStarter>): (w: WorkflowStarter) => WorkflowStarter {
  return (w) => ({
    start: overrides.start ?? w.start.bind(w),
    signalWithStart: overrides.signalWithStart ?? w.signalWithStart.bind(w),
    getHandle: overrides.getHandle ?? w.getHandle.bind(w),
    list: overrides.list ?? w.list.bind(w),
  });
}

/** The environment of a test instance; child-process tests reuse it. */
export async function testEnv(kind: StoreKind, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-e2e-'));
  return {
    HOOKLINE_ROLE: 'all',
    HOOKLINE_API_PORT: '0',
    HOOKLINE_ADMIN_KEY: ADMIN_KEY,
    HOOKLINE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOOKLINE_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    HOOKLINE_TASK_QUEUE: `hookline-test-${randomBytes(4).toString('hex')}`,
    HOOKLINE_ALLOW_INSECURE_URLS: 'true',
    // Sweeps run when a test asks; the periodic one would race the tests' own timing.
    HOOKLINE_DISPATCH_INTERVAL_MS: '600000',
    LOG_LEVEL: 'warn',
    ...(kind === 'postgres' && { DATABASE_URL: await createDatabase() }),
    ...extra,
  };
}

export async function startTestHookline(kind: StoreKind, options: TestHooklineOptions = {}): Promise<TestHookline> {
  return startWithEnv(await testEnv(kind, options.env), options);
}

/**
 * The suite's Hookline on `kind` and one receiver: started before its tests and stopped after
 * them. `started` hands both to the suite, as `useMemoryStore` does a store.
 */
/** Starts a suite's Hookline before its tests and stops it after. */
export function useHookline(kind: StoreKind, started: (t: TestHookline) => void, options: TestHooklineOptions = {}): void {
  let t: TestHookline | undefined;
  beforeAll(async () => {
    t = await startTestHookline(kind, options);
    started(t);
  });
  afterAll(async () => {
    await t?.stop();
  });
}

export function useHooklineAndReceiver(kind: StoreKind, started: (t: TestHookline, r: Receiver) => void, options: TestHooklineOptions = {}, behaviour?: Behaviour): void {
  let t: TestHookline | undefined;
  let r: Receiver | undefined;
  beforeAll(async () => {
    t = await startTestHookline(kind, options);
    r = await startReceiver(behaviour);
    started(t, r);
  });
  afterAll(async () => {
    await r?.close();
    await t?.stop();
  });
}

/** Starts an instance on an existing environment: the same store and task queue as an earlier one. */
export async function startWithEnv(env: Record<string, string>, options: Omit<TestHooklineOptions, 'env'> = {}): Promise<TestHookline> {
  const config = loadConfig(env);
  const hookline = await startHookline({
    config,
    logger: options.logger ?? createLogger(config.logLevel),
    workflowBundlePath: inject('workflowBundlePath'),
    ...(options.wrapWorkflows && { wrapWorkflows: options.wrapWorkflows }),
    ...(options.resolve && { resolve: options.resolve }),
  });
  return {
    hookline,
    api: apiClient(hookline.apiUrl!, ADMIN_KEY),
    env,
    dataDir: config.dataDir,
    async stop({ keepData = false } = {}) {
      await hookline.stop();
      if (!keepData) rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
