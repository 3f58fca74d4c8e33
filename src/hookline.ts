/**
 * Wires one Hookline process from its configuration: the store, Temporal (a cluster or the local
 * dev server), the worker and the API with its dispatcher, by role. `main.ts` and the end-to-end
 * tests both start Hookline through here.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { createHttpSender } from './activities/http-sender';
import type { Resolver } from './activities/guarded-lookup';
import { createApi } from './api/app';
import { createDispatcher, type Dispatcher, type WorkflowStarter } from './api/dispatcher';
import type { Config } from './config';
import { createLogger, installTemporalLogging, type Logger } from './logger';
import { listen, type ApiServer } from './server';
import { openStore, type Store } from './store';
import { createSecretBox, parseEncryptionKey } from './store/secret-box';
import { connectTemporal, endpointFailureReporter, findTemporalCli, registerSearchAttributes, startDevServer, type DevServer } from './temporal';
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
  adminKeyGenerated: boolean;
  store: Store;
  dispatcher: Dispatcher | undefined;
  client: Client;
  /** Settles when the worker stops; rejects if it fails. */
  workerRun: Promise<void> | undefined;
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

export async function startHookline(opts: StartOptions): Promise<Hookline> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  installTemporalLogging(logger);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => logger.warn({ err }, 'error during shutdown'));
  };
  try {
    mkdirSync(config.dataDir, { recursive: true });
    const encryptionKey = config.encryptionKey ?? localSecret(config.dataDir, 'encryption-key', () => randomBytes(32).toString('base64')).value;
    const admin = config.adminKey
      ? { value: config.adminKey, generated: false }
      : localSecret(config.dataDir, 'admin-key', () => `hk_admin_${randomBytes(24).toString('base64url')}`);

    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') }, createSecretBox(parseEncryptionKey(encryptionKey)));
    stops.push(() => store.close());
    await store.operator.configure(config.operatorWebhook);

    let devServer: DevServer | undefined;
    let address = config.temporal.address;
    if (!address) {
      if (config.role !== 'all') throw new Error('TEMPORAL_ADDRESS is required when HOOKLINE_ROLE is api or worker');
      devServer = await startDevServer({
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.devServerUiPort,
        cliPath: findTemporalCli(config.temporal.cliPath),
      });
      stops.push(() => devServer!.stop());
      address = devServer.address;
    }
    const connections = await connectTemporal(address);
    stops.push(() => connections.close());
    await registerSearchAttributes(connections.client, config.temporal.namespace);
    const client = new Client({ connection: connections.client, namespace: config.temporal.namespace });

    let workerRun: Promise<void> | undefined;
    if (config.role !== 'api') {
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
      });
      const worker: Worker = await createHooklineWorker({
        connection: connections.worker,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        activities,
        workflowBundlePath: opts.workflowBundlePath,
      });
      workerRun = worker.run();
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun?.catch(() => undefined);
      });
    }

    let api: ApiServer | undefined;
    let dispatcher: Dispatcher | undefined;
    if (config.role !== 'worker') {
      const wrap = opts.wrapWorkflows ?? ((w: WorkflowStarter) => w);
      dispatcher = createDispatcher({
        workflows: wrap(client.workflow),
        store,
        taskQueue: config.temporal.taskQueue,
        fanOutWindow: config.fanOutWindow,
        graceMs: config.dispatchGraceMs,
        logger,
      });
      const app = createApi({
        store,
        dispatcher,
        adminKey: admin.value,
        urlPolicy: { allowInsecure: config.allowInsecureUrls, allowSubnets: config.allowSubnets },
        limits: { maxPayloadBytes: config.maxPayloadBytes, maxEndpointsPerApp: config.maxEndpointsPerApp },
        rateLimit: config.apiRateLimit,
        maxInFlight: config.apiMaxInFlight,
        readiness: { temporal: async () => void (await connections.client.healthService.check({})) },
        logger,
      });
      api = await listen(app, config.apiHost, config.apiPort);
      stops.push(() => api!.close());
      dispatcher.start(config.dispatchIntervalMs);
      const d = dispatcher;
      stops.push(() => d.stop());
    }

    return {
      apiUrl: api?.url,
      temporalAddress: address,
      temporalUiUrl: devServer?.uiUrl,
      adminKey: admin.value,
      adminKeyGenerated: admin.generated,
      store,
      dispatcher,
      client,
      workerRun,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
