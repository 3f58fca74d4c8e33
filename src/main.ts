/**
 * `npm start` and the production entry point. With no TEMPORAL_ADDRESS (role `all`) it starts a
 * local Temporal dev server with the Web UI; with no DATABASE_URL it uses the embedded PGlite.
 */
import { loadConfig } from './config';
import { startHookline } from './hookline';
import { createLogger } from './logger';

async function main(): Promise<void> {
  const dev = !process.env.TEMPORAL_ADDRESS && !process.env.DATABASE_URL;
  // The embedded defaults are for a laptop: allow http and loopback receivers unless told otherwise.
  if (dev && !process.env.HOOKLINE_ALLOW_INSECURE_URLS) process.env.HOOKLINE_ALLOW_INSECURE_URLS = 'true';
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const hookline = await startHookline({ config, logger });

  const lines = [
    '',
    `Hookline is running (role: ${config.role}).`,
    hookline.apiUrl && `  API:              ${hookline.apiUrl}   (OpenAPI: ${hookline.apiUrl}/openapi.json)`,
    hookline.temporalUiUrl && `  Temporal Web UI:  ${hookline.temporalUiUrl}`,
    `  Temporal:         ${hookline.temporalAddress}`,
    `  Store:            ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`}`,
    config.role !== 'worker' && !config.adminKey && `  Admin key:        ${hookline.adminKey}   (stored in ${config.dataDir}/admin-key)`,
    config.allowInsecureUrls && '  HOOKLINE_ALLOW_INSECURE_URLS is on: http and loopback endpoint URLs are accepted (development only).',
    '',
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
  // The same as one JSON line, for log pipelines (never the admin key).
  logger.info({ role: config.role, api: hookline.apiUrl, temporalUi: hookline.temporalUiUrl, temporal: hookline.temporalAddress, store: config.databaseUrl ? 'postgresql' : 'pglite' }, 'started');

  let stopping = false;
  /** `exitCode` 1 when Hookline stops because part of it failed: a supervisor restarting on failure must see it. */
  const shutdown = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const started = Date.now();
    hookline.stop().then(
      () => {
        logger.info({ ms: Date.now() - started }, 'stopped');
        process.exit(exitCode);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  hookline.workerRun?.catch((err: unknown) => {
    logger.fatal({ err }, 'worker stopped');
    shutdown('worker-failed', 1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`Hookline failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
