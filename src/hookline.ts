/**
 * Wires one Hookline process from its configuration: the store, Temporal (a cluster or the local
 * dev server), the worker and the API with its dispatcher, by role. `main.ts` and the end-to-end
 * tests both start Hookline through here.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { createActivities } from './activities';
import { createHttpSender } from './activities/http-sender';
import type { Resolver } from './activities/guarded-lookup';
import { createApi } from './api/app';
import { createSchemaChecker } from './api/schema-checker';
import { watchEventLoopDelay } from './api/loop-delay';
import { boundedWorkflows } from './api/bounded-workflows';
import { createDispatcher, type Dispatcher, type WorkflowStarter } from './api/dispatcher';
import type { Config } from './config';
import { createLogger, installTemporalLogging, type Logger } from './logger';
import { listen, type ApiServer } from './server';
import { openStore, type Store } from './store';
import { createSecretBox, parseEncryptionKey, sealedKeyId } from './store/secret-box';
import { lockDataDir } from './data-dir-lock';
import { findTemporalCli, startDevServer, type DevServer } from './dev-server';
import { connectTemporal, deliveryResender, deliveryStopper, endpointFailureReporter, registerSearchAttributes, searchAttributesToRegister, type TemporalConnections } from './temporal';
import { createMetrics, serveMetrics, type Metrics } from './metrics';
import type { Probes } from './readiness';
import { createHooklineWorker } from './worker';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };
export const USER_AGENT = `Hookline/${version}`;

export interface StartOptions {
  config: Config;
  logger?: Logger;
  workflowBundlePath?: string;
  /** Tests wrap the workflow client to inject failures between the commit and the start. */
  wrapWorkflows?: (workflows: WorkflowStarter) => WorkflowStarter;
  /** Tests resolve names through a DNS they control. */
  resolve?: Resolver;
}

export interface Hookline {
  apiUrl: string | undefined;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  adminKey: string;
  store: Store;
  dispatcher: Dispatcher | undefined;
  client: Client;
  /** Settles when the worker stops; rejects if it fails. */
  workerRun: Promise<void> | undefined;
  metrics: Metrics;
  /** `/metrics` on HOOKLINE_METRICS_PORT, when it is set. */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/** Reads a generated secret from the data directory, creating it (mode 0600) on first use. */
function localSecret(dataDir: string, name: string, make: () => string): { value: string; generated: boolean } {
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), generated: false };
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, generated: true };
}

type Stops = (() => Promise<void>)[];

interface Shared {
  config: Config;
  logger: Logger;
  store: Store;
  client: Client;
  connections: TemporalConnections;
  metrics: Metrics;
  /** The store and Temporal answer: the API's `/readyz`, and the metrics port's with the worker's state. */
  probes: Probes;
  stops: Stops;
}

/** Temporal: the configured cluster, or (role `all` only) a local dev server with the Web UI. */
async function temporalFor(config: Config, logger: Logger, stops: Stops, halts: Stops): Promise<{ address: string; devServer: DevServer | undefined }> {
  if (config.temporal.address) return { address: config.temporal.address, devServer: undefined };
  if (config.role !== 'all') throw new Error('TEMPORAL_ADDRESS is required when HOOKLINE_ROLE is api or worker');
  const devServer = await startDevServer({
    dataDir: config.dataDir,
    namespace: config.temporal.namespace,
    port: config.temporal.devServerPort,
    uiPort: config.temporal.devServerUiPort,
    cliPath: findTemporalCli(config.temporal.cliPath),
    logger,
  });
  stops.push(() => devServer.stop());
  halts.push(() => devServer.unsupervise());
  return { address: devServer.address, devServer };
}

async function startWorkerRole({ config, logger, store, client, connections, metrics, stops }: Shared, opts: StartOptions): Promise<{ run: Promise<void>; running: () => boolean }> {
  const http = createHttpSender({
    allowInsecure: config.allowInsecureUrls,
    allowSubnets: config.allowSubnets,
    extraCaPem: config.extraCaPem,
    proxyUrl: config.egressProxyUrl,
    ...(opts.resolve && { resolve: opts.resolve }),
  });
  stops.push(() => http.close());
  const activities = createActivities({
    store,
    http,
    urlPolicy: { allowInsecure: config.allowInsecureUrls, allowSubnets: config.allowSubnets },
    userAgent: USER_AGENT,
    reportFailure: endpointFailureReporter(client, config.temporal.taskQueue),
    stopDelivery: deliveryStopper(client),
    resend: deliveryResender(store, client.workflow, config.temporal.taskQueue, logger),
    metrics,
    maxInFlightPerEndpoint: config.workerMaxInFlightPerEndpoint,
  });
  const worker = await createHooklineWorker({
    connection: connections.worker,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    maxCachedWorkflows: config.workerMaxCachedWorkflows,
    taskSlots: config.workerTaskSlots,
    workflowBundlePath: opts.workflowBundlePath,
  });
  const run = worker.run();
  stops.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run.catch(() => undefined);
  });
  return { run, running: () => worker.getState() === 'RUNNING' };
}

async function startApiRole({ config, logger, store, client, metrics, probes, stops }: Shared, adminKey: string, opts: StartOptions): Promise<{ api: ApiServer; dispatcher: Dispatcher }> {
  const wrap = opts.wrapWorkflows ?? ((w: WorkflowStarter) => w);
  const shutdown = new AbortController();
  const dispatcher = createDispatcher({
    workflows: wrap(boundedWorkflows(client, shutdown.signal)),
    store,
    taskQueue: config.temporal.taskQueue,
    fanOutWindow: config.fanOutWindow,
    graceMs: config.dispatchGraceMs,
    logger,
  });
  const loopDelay = config.apiMaxEventLoopDelayMs > 0 ? watchEventLoopDelay({ maxDelayMs: config.apiMaxEventLoopDelayMs }) : undefined;
  if (loopDelay) stops.push(async () => loopDelay.stop());
  const schemaCheckers = { events: createSchemaChecker(), vets: createSchemaChecker() };
  stops.push(() => Promise.all([schemaCheckers.events.close(), schemaCheckers.vets.close()]).then(() => undefined));
  const app = createApi({
    schemaCheckers,
    store,
    dispatcher,
    adminKey,
    urlPolicy: { allowInsecure: config.allowInsecureUrls, allowSubnets: config.allowSubnets },
    limits: { maxPayloadBytes: config.maxPayloadBytes, maxEndpointsPerApp: config.maxEndpointsPerApp },
    rateLimit: config.apiRateLimit,
    maxInFlight: config.apiMaxInFlight,
    ...(loopDelay && { late: loopDelay.late }),
    readiness: probes,
    logger,
    metrics,
  });
  const api = await listen(app, config.apiHost, config.apiPort);
  dispatcher.start(config.dispatchIntervalMs);
  // The API closes first: requests under way get to finish (a cut one would leave its
  // Idempotency-Key claimed, and the client's retry refused for minutes). Past the drain, the
  // Temporal calls still under way are aborted, so their requests answer 503 and free their keys
  // (an event's start is committed and the next sweep makes it; a resend or recovery is the
  // client's to retry); then the dispatcher waits for the calls to settle.
  stops.push(async () => {
    try {
      await api.close({ beforeCut: () => shutdown.abort() });
    } finally {
      shutdown.abort();
      await dispatcher.stop();
    }
  });
  return { api, dispatcher };
}

export async function startHookline(opts: StartOptions): Promise<Hookline> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  installTemporalLogging(logger);
  const stops: Stops = [];
  /** Run first, in order, before `stops` tear anything down. */
  const halts: Stops = [];
  const stop = async () => {
    for (const fn of [...halts, ...stops.reverse()]) await fn().catch((err: unknown) => logger.warn({ err }, 'error during shutdown'));
  };
  try {
    mkdirSync(config.dataDir, { recursive: true });
    // Only a process that keeps live state there takes it: API and worker processes on
    // PostgreSQL and an external Temporal may share a checkout's data directory.
    if (!config.databaseUrl || !config.temporal.address) {
      const lock = lockDataDir(config.dataDir);
      stops.push(async () => lock.release()); // pushed first: released last
    }
    const encryptionKey = config.encryptionKey ?? localSecret(config.dataDir, 'encryption-key', () => randomBytes(32).toString('base64')).value;
    const admin = config.adminKey
      ? { value: config.adminKey, generated: false }
      : localSecret(config.dataDir, 'admin-key', () => `hk_admin_${randomBytes(24).toString('base64url')}`);
    const box = createSecretBox(parseEncryptionKey(encryptionKey), config.previousEncryptionKeys.map((k) => parseEncryptionKey(k, 'each key in HOOKLINE_PREVIOUS_ENCRYPTION_KEYS')));
    const store = await openStore(
      {
        databaseUrl: config.databaseUrl,
        dataDir: join(config.dataDir, 'pglite'),
        queryTimeoutMs: config.dbQueryTimeoutMs,
        connectTimeoutMs: config.dbQueryTimeoutMs,
        onConnectionError: (err) => logger.warn({ err }, 'a PostgreSQL connection failed (the server restarted or ended it); the pool opens another when needed'),
      },
      box,
    );
    stops.push(() => store.close());
    // Caught here, not by every attempt failing to open its endpoint's secrets and retrying for good.
    const unknownKey = await store.endpoints.sealedWithUnknownKey();
    if (unknownKey !== undefined) {
      throw new Error(
        `the store holds endpoint secrets sealed with an encryption key this process was not given (key id ${sealedKeyId(unknownKey)}): start with that key as HOOKLINE_ENCRYPTION_KEY, or list it in HOOKLINE_PREVIOUS_ENCRYPTION_KEYS`,
      );
    }
    await store.operator.configure(config.operatorWebhook);

    const { address, devServer } = await temporalFor(config, logger, stops, halts);
    const connections = await connectTemporal(address, config.temporal);
    stops.push(() => connections.close());
    if ((await registerSearchAttributes(connections.client, config.temporal.namespace)) === 'unchecked') {
      logger.warn({ namespace: config.temporal.namespace }, `could not list the namespace's search attributes; make sure these are registered: ${searchAttributesToRegister()}`);
    }
    const client = new Client({ connection: connections.client, namespace: config.temporal.namespace });
    const metrics = createMetrics();
    const probes: Probes = { store: () => store.ping(), temporal: async () => void (await connections.client.healthService.check({})) };
    const shared: Shared = { config, logger, store, client, connections, metrics, probes, stops };

    const workerRole = config.role !== 'api' ? await startWorkerRole(shared, opts) : undefined;
    const apiRole = config.role !== 'worker' ? await startApiRole(shared, admin.value, opts) : undefined;
    const workerProbe = workerRole && {
      worker: async () => {
        if (!workerRole.running()) throw new Error('the worker is not running');
      },
    };
    const metricsServer = config.metricsPort === undefined ? undefined : await serveMetrics(metrics, config.apiHost, config.metricsPort, { ...probes, ...workerProbe });
    if (metricsServer) stops.push(() => metricsServer.close());
    return {
      apiUrl: apiRole?.api.url,
      temporalAddress: address,
      temporalUiUrl: devServer?.uiUrl,
      adminKey: admin.value,
      store,
      dispatcher: apiRole?.dispatcher,
      client,
      workerRun: workerRole?.run,
      metrics,
      metricsUrl: metricsServer?.url,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
