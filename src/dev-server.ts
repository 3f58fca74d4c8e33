/**
 * The local Temporal dev server that `npm start` runs when TEMPORAL_ADDRESS is unset: the
 * official CLI with the Web UI, its database in the data directory, and a supervisor that starts
 * it again if it dies. Also the dynamic config Hookline wants from any Temporal server.
 */
import { delimiter, join } from 'node:path';
import { accessSync, constants, existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from './logger';
import { stopOrphanedDevServers } from './dev-server-orphans';
import { superviseDevServer } from './dev-server-supervisor';
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
  /** Where the supervisor says that it restarts the server. */
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /**
   * Stops restarting the server if it dies. A shutdown calls this first: a terminal's Ctrl-C
   * reaches the server too, and it must not be started again while Hookline stops.
   */
  unsupervise(): Promise<void>;
  stop(): Promise<void>;
}

/** Where the dev server listens: loopback only. */
export const DEV_SERVER_HOST = '127.0.0.1';

/**
 * Pragmas that made the file-backed dev server 2–6× faster on the reference machine. They also
 * mark a server as one Hookline started (dev-server-orphans.ts).
 */
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
export async function requirePortFree(port: number, what: string, setting: string, alternative = '', waitMs = 0): Promise<void> {
  if (port === 0) return;
  const deadline = Date.now() + waitMs;
  while (await portTaken(port)) {
    if (Date.now() >= deadline) throw new Error(`${what} port ${port} on ${DEV_SERVER_HOST} is already in use (another Hookline, or a Temporal dev server?). Set ${setting} to a free port${alternative}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function portTaken(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    probe.listen(port, DEV_SERVER_HOST, () => probe.close(() => resolve(false)));
  });
}

/**
 * How long a port may stay taken after the server on it was stopped. In a full `npm test` a start
 * right after stopping a left-behind server found its port still taken, once. A likely cause: a
 * multi-threaded process reads as exited (its main thread a zombie) while its other threads,
 * which hold its sockets too, are still exiting.
 */
const PORT_RELEASE_WAIT_MS = 5_000;

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  // Absolute and without symlinks: the server's command line names it, and that is how a
  // left-behind one is found, whichever path to the data directory the next start is given.
  const dbFilename = join(realpathSync(opts.dataDir), 'temporal.sqlite');
  const releaseWaitMs = (await stopOrphanedDevServers(dbFilename, SQLITE_PRAGMAS, opts.logger)) > 0 ? PORT_RELEASE_WAIT_MS : 0;
  await requirePortFree(opts.port, "the Temporal dev server's", 'HOOKLINE_TEMPORAL_PORT', `, or TEMPORAL_ADDRESS=${DEV_SERVER_HOST}:${opts.port} to use the Temporal that is there`, releaseWaitMs);
  if (opts.uiPort !== 0) await requirePortFree(opts.uiPort, "the Temporal Web UI's", 'HOOKLINE_TEMPORAL_UI_PORT', ' (0 turns the Web UI off)', releaseWaitMs);
  const newDatabase = !existsSync(dbFilename);
  let env: TestWorkflowEnvironment | undefined = await launch(opts, opts.port, dbFilename);
  if (newDatabase) writeFileSync(partitionMarker(dbFilename), '1\n');
  // A restart must come back where the clients and the worker already connect.
  const address = env.address;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const supervisor = superviseDevServer({
    host: DEV_SERVER_HOST,
    port,
    intervalMs: DEV_SERVER_CHECK_INTERVAL_MS,
    logger: opts.logger,
    restart: async () => {
      // Unset until a new one runs: a failed restart leaves nothing for stop() to tear down twice.
      const old = env;
      env = undefined;
      await old?.teardown().catch(() => undefined);
      await requirePortFree(port, "the Temporal dev server's", 'HOOKLINE_TEMPORAL_PORT', '', PORT_RELEASE_WAIT_MS);
      env = await launch(opts, port, dbFilename);
    },
  });
  return {
    address,
    uiUrl: opts.uiPort !== 0 ? `http://${DEV_SERVER_HOST}:${opts.uiPort}` : undefined,
    unsupervise: () => supervisor.stop(),
    stop: async () => {
      await supervisor.stop();
      await env?.teardown();
    },
  };
}

/** Starts the server on `port` (0: a free one) with the database file `dbFilename`. */
function launch(opts: DevServerOptions, port: number, dbFilename: string): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: opts.cliPath ? { type: 'existing-path', path: opts.cliPath } : { type: 'cached-download' },
      namespace: opts.namespace,
      ip: DEV_SERVER_HOST,
      ...(port !== 0 && { port }),
      ui: opts.uiPort !== 0,
      ...(opts.uiPort !== 0 && { uiPort: opts.uiPort }),
      dbFilename,
      extraArgs: [...SQLITE_PRAGMAS, ...devServerDynamicConfigArgs(devServerPartitionConfig(dbFilename))],
      searchAttributes: hooklineSearchAttributes,
    },
  });
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

/** How often the supervisor checks the dev server's port. */
export const DEV_SERVER_CHECK_INTERVAL_MS = 2_000;
