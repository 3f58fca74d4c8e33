/**
 * Temporal connections: a cluster at TEMPORAL_ADDRESS, or in dev a local dev server (the official
 * CLI, with the Web UI) whose files live in the data directory.
 */
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { Connection, type Client, type TLSConfig } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { DeliveryStatus, type Delivery } from './domain/model';
import type { Logger } from './logger';
import type { Store } from './store';
import { delivery, deliveryWorkflowId, endpointDisabledSignal, resendDeliveryOptions } from './workflows/delivery';
import { endpointHealth, wakeEndpointHealth } from './workflows/endpoint-health';
import { hooklineSearchAttributes } from './workflows/search-attributes';

export interface DevServerOptions {
  dataDir: string;
  namespace: string;
  /** 0 picks a free port. */
  port: number;
  /** 0 turns the Web UI off. */
  uiPort: number;
  /** The `temporal` CLI; unset lets the SDK download one (needs internet). */
  cliPath: string | undefined;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** Where the dev server listens: loopback only. */
const DEV_SERVER_HOST = '127.0.0.1';

/** Pragmas that made the file-backed dev server 2–6× faster on the reference machine. */
const SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'];

/**
 * Temporal dynamic config Hookline wants from every server it runs on: the dev servers it starts
 * (app, bench, tests) get it as flags, docker-compose's cluster from deploy/temporal-dynamicconfig.yaml
 * (a test keeps the two equal).
 *
 * The history service's transfer queue, which hands new workflow tasks and child starts to
 * matching, reads each shard at most `transferProcessorMaxPollRPS` times a second, 20 by default:
 * every hop then waits 0–50 ms, and a delivery makes three. 200 caps the wait at 5 ms. The reader
 * still reads only when told of new tasks, so an idle server does no more work. Measured in
 * docs/performance.md ("Transfer queue reads").
 */
export const TEMPORAL_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 200,
};

const READ_PARTITIONS = 'matching.numTaskqueueReadPartitions';
const WRITE_PARTITIONS = 'matching.numTaskqueueWritePartitions';

/**
 * Task-queue partitions for a dev server, which has one matching host. Temporal's default is 4
 * per task queue. A burst of 400 deliveries drained with 1.5–1.75 s in which nothing arrived and
 * took 9.6–9.9 s; with one partition there were no gaps and it took 6.7–7.9 s. The likely cause,
 * read from the server's settings and not traced in the server: the worker polls the normal queue
 * with 2 pollers (the SDK's default split), so some partitions often have none, and their tasks
 * wait to be forwarded, at 10 a second (`matching.forwarderMaxRatePerSecond`) (docs/performance.md, "Session 6: task-queue partitions").
 *
 * A database created with 4 partitions may still hold tasks in partitions 1–3. A server that
 * reads only partition 0 would never dispatch them. So a marker next to the database records
 * that it was created with one partition (`startDevServer` writes it once the server has
 * started on a new database). An older database without the marker keeps reading all four and
 * writes to one, which drains them; the README says how to switch it over. `dbFile` unset: an
 * in-memory server, always new.
 */
export function devServerPartitionConfig(dbFile: string | undefined): Record<string, number> {
  const single = { [READ_PARTITIONS]: 1, [WRITE_PARTITIONS]: 1 };
  if (dbFile === undefined || !existsSync(dbFile)) return single;
  return existsSync(partitionMarker(dbFile)) ? single : { [WRITE_PARTITIONS]: 1 };
}

/** The marker file next to a dev server's database: present when the database has one partition. */
export const partitionMarker = (dbFile: string): string => `${dbFile}.partitions`;

/** `--dynamic-config-value` flags: TEMPORAL_DYNAMIC_CONFIG, then dev-server-only settings. */
export const devServerDynamicConfigArgs = (devServerOnly: Record<string, number> = {}): string[] =>
  Object.entries({ ...TEMPORAL_DYNAMIC_CONFIG, ...devServerOnly }).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);

/**
 * Refuses a dev-server port that something already listens on. The SDK waits until the server's
 * port answers and cannot tell who answers: with the port taken, the new server exits at once,
 * and Hookline would run on the other process's Temporal (another `npm start`, or a
 * `temporal server start-dev`) with its own store, and lose that one's events.
 */
export async function requirePortFree(port: number, what: string, setting: string, alternative = ''): Promise<void> {
  if (port === 0) return;
  const taken = await new Promise<boolean>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    probe.listen(port, DEV_SERVER_HOST, () => probe.close(() => resolve(false)));
  });
  if (taken) throw new Error(`${what} port ${port} on ${DEV_SERVER_HOST} is already in use (another Hookline, or a Temporal dev server?). Set ${setting} to a free port${alternative}.`);
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  await requirePortFree(opts.port, "the Temporal dev server's", 'HOOKLINE_TEMPORAL_PORT', `, or TEMPORAL_ADDRESS=${DEV_SERVER_HOST}:${opts.port} to use the Temporal that is there`);
  if (opts.uiPort !== 0) await requirePortFree(opts.uiPort, "the Temporal Web UI's", 'HOOKLINE_TEMPORAL_UI_PORT', ' (0 turns the Web UI off)');
  const dbFilename = join(opts.dataDir, 'temporal.sqlite');
  const newDatabase = !existsSync(dbFilename);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: opts.cliPath ? { type: 'existing-path', path: opts.cliPath } : { type: 'cached-download' },
      namespace: opts.namespace,
      ip: DEV_SERVER_HOST,
      ...(opts.port !== 0 && { port: opts.port }),
      ui: opts.uiPort !== 0,
      ...(opts.uiPort !== 0 && { uiPort: opts.uiPort }),
      dbFilename,
      extraArgs: [...SQLITE_PRAGMAS, ...devServerDynamicConfigArgs(devServerPartitionConfig(dbFilename))],
      searchAttributes: hooklineSearchAttributes,
    },
  });
  if (newDatabase) writeFileSync(partitionMarker(dbFilename), '1\n');
  return { address: env.address, uiUrl: opts.uiPort !== 0 ? `http://${DEV_SERVER_HOST}:${opts.uiPort}` : undefined, stop: () => env.teardown() };
}

/**
 * Finds the CLI in scripts/temporal-cli.mjs's order: TEMPORAL_CLI_PATH, the project's pinned
 * build, then a `temporal` on PATH. Undefined: the SDK downloads one (needs internet).
 */
export function findTemporalCli(configured: string | undefined, projectRoot = join(__dirname, '..'), searchPath = process.env.PATH ?? ''): string | undefined {
  if (configured) return configured;
  const pinned = join(projectRoot, '.tools', 'bin', 'temporal');
  if (existsSync(pinned)) return pinned;
  return searchPath
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'temporal'))
    .find((candidate) => isExecutableFile(candidate));
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface TemporalConnections {
  client: Connection;
  worker: NativeConnection;
  close(): Promise<void>;
}

/** How to reach the cluster beyond its address: TLS (mTLS) and Temporal Cloud's API key. */
export interface TemporalAccess {
  tls?: TLSConfig | undefined;
  apiKey?: string | undefined;
}

export async function connectTemporal(address: string, access: TemporalAccess = {}): Promise<TemporalConnections> {
  const options = { address, ...(access.tls && { tls: access.tls }), ...(access.apiKey !== undefined && { apiKey: access.apiKey }) };
  const client = await Connection.connect(options);
  const worker = await NativeConnection.connect(options);
  return {
    client,
    worker,
    close: async () => {
      await worker.close();
      await client.close();
    },
  };
}

const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;

const keywordList = (names: readonly { name: string }[]) => names.map((k) => `${k.name} (Keyword)`).join(', ');

/**
 * Registers Hookline's search attributes on the namespace; already-registered ones are fine.
 * `unchecked`: the cluster does not let this client list them (Temporal Cloud's operator API
 * refuses it); the caller says which to register, and starts then fail if one is missing.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<'present' | 'registered' | 'unchecked'> {
  let existing;
  try {
    existing = await connection.operatorService.listSearchAttributes({ namespace });
  } catch (err) {
    if (refusedToThisClient(err)) return 'unchecked';
    throw err;
  }
  const missing = hooklineSearchAttributes.filter((k) => !existing.customAttributes?.[k.name]);
  if (missing.length === 0) return 'present';
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (err) {
    // Another process registered them first.
    if ((err as { code?: number }).code === GRPC_ALREADY_EXISTS) return 'registered';
    // A cluster that keeps this to its operators: they are missing for sure, so say which.
    if (refusedToThisClient(err)) {
      throw new Error(`cannot register search attributes on namespace "${namespace}"; add ${keywordList(missing)} with your cluster's tools (Temporal Cloud: tcld namespace search-attributes add), then start again`, { cause: err });
    }
    throw err;
  }
  return 'registered';
}

/** What to tell an operator when `registerSearchAttributes` could not check. */
export const searchAttributesToRegister = (): string => keywordList(hooklineSearchAttributes);

function refusedToThisClient(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  // Not UNAUTHENTICATED: bad credentials must stop the start, not pass as "could not check".
  return code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED;
}

/** Failures of one endpoint within this long are reported once: the health workflow only needs to know it is failing. */
export const FAILURE_REPORT_INTERVAL_MS = 2_000;

/**
 * Starts the endpoint's health workflow, or tells the running one about another failure. A burst
 * of failures (thousands of deliveries to one dead endpoint) becomes at most one report per
 * interval per process: the first at once, the last of the burst at the end of the interval, so
 * the workflow still sees the latest failures within the interval.
 */
export function endpointFailureReporter(client: Client, taskQueue: string, intervalMs = FAILURE_REPORT_INTERVAL_MS) {
  const lastReported = new Map<string, number>();
  const trailing = new Set<string>();
  const report = (endpointId: string) => client.workflow.signalWithStart(endpointHealth, wakeEndpointHealth(endpointId, taskQueue));
  return async (endpointId: string): Promise<void> => {
    const now = Date.now();
    const since = now - (lastReported.get(endpointId) ?? -Infinity);
    if (since >= intervalMs) {
      if (lastReported.size > 10_000) lastReported.clear();
      lastReported.set(endpointId, now);
      await report(endpointId);
      return;
    }
    if (trailing.has(endpointId)) return;
    trailing.add(endpointId);
    // Best effort: if this process dies first, the health workflow's own check timer covers it.
    setTimeout(() => {
      trailing.delete(endpointId);
      lastReported.set(endpointId, Date.now());
      report(endpointId).catch(() => undefined);
    }, intervalMs - since).unref();
  };
}

/**
 * Resend (PRODUCT.md §5), for the API and for recoveries: a waiting delivery attempts now; a
 * finished one makes one `manual` attempt. Temporal is told first and the store second: marking
 * the row `pending` before the signal would leave it pending for good if this process died in
 * between. The mark applies only if no attempt was recorded since `d` was read, because the
 * resend's attempt may already have recorded its outcome, which must win. If Temporal refuses,
 * the store is untouched. Once Temporal has taken the resend, it has happened: a failed mark is
 * logged, not thrown, since a caller told "try again" would resend twice. The row then reads as it
 * was until the resend's attempt records its outcome.
 */
export function deliveryResender(store: Store, workflows: Pick<WorkflowClient, 'signalWithStart'>, taskQueue: string, logger: Pick<Logger, 'warn'>) {
  return async (d: Delivery): Promise<void> => {
    await workflows.signalWithStart(delivery, resendDeliveryOptions(d, taskQueue));
    if (d.status === DeliveryStatus.pending) return;
    await store.deliveries.markResent(d.id, d).catch((err: unknown) => {
      logger.warn({ err, deliveryId: d.id }, 'resend sent, but the delivery could not be marked pending; its attempt records the outcome');
    });
  };
}

/** Tells a delivery's workflow that its endpoint was disabled; one that already ended is fine. */
export function deliveryStopper(client: Client) {
  return async (eventId: string, endpointId: string, statusVersion: number): Promise<void> => {
    try {
      await client.workflow.getHandle(deliveryWorkflowId(eventId, endpointId)).signal(endpointDisabledSignal, { statusVersion });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
}
