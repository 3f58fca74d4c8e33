/** Structured JSON logs (pino). Secrets and payloads are never passed to a logger; redaction is a second fence. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';

export function createLogger(level: string) {
  return pino({
    level,
    base: { service: 'hookline' },
    redact: { paths: ['secret', '*.secret', 'headers.authorization', '*.headers.authorization', 'key', '*.key'], censor: '[redacted]' },
    serializers: { err: serializeError },
  });
}

/**
 * pino's error serializer copies an error's own properties, and the pg pool's errors carry the
 * client that raised them: its socket, buffers and connection parameters (pg keeps the password
 * out of them, non-enumerable), kilobytes per log line.
 */
export function serializeError(err: unknown): unknown {
  const serialized = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (serialized && typeof serialized === 'object') delete serialized.client;
  return serialized;
}
export type Logger = ReturnType<typeof createLogger>;

const SDK_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
let sdkLoggingInstalled = false;

/**
 * Routes the Temporal SDK's own logs (worker, bundler, and the native core's, which would
 * otherwise print coloured text to the console, such as its gRPC retry warnings while Temporal is
 * down) into the same JSON stream, at WARN and above: the bundler's INFO lines are noise for an
 * operator. Once per process.
 */
export function installTemporalLogging(logger: Logger): void {
  if (sdkLoggingInstalled) return;
  sdkLoggingInstalled = true;
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      sdk[sdkLogLevel(entry)](sdkLogFields(entry.meta), entry.message);
    }),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
}

/**
 * The level an SDK log entry is logged at: the SDK's own, except core's "workflow task duration
 * exceeded 5 seconds" (TMPRL1104) for a `delivery` run, which every attempt at an endpoint slower
 * than 5 s raises (the attempt is a local activity inside the workflow task, up to its endpoint
 * timeout of at most 30 s): expected, so debug. Other workflows' slow tasks still warn.
 */
export function sdkLogLevel(entry: { level: keyof typeof SDK_LEVELS; message: string; meta?: Record<string, unknown> | undefined }): (typeof SDK_LEVELS)[keyof typeof SDK_LEVELS] {
  if (entry.message.startsWith('[TMPRL1104]') && entry.meta?.workflowType === 'delivery') return 'debug';
  return SDK_LEVELS[entry.level];
}

/**
 * The fields of an SDK log entry, with every error in them serialized: the SDK passes the cause of
 * "Activity failed" and the like as `error`, which pino serializes only under `err`, so it printed
 * `{}` (an Error's own properties are not enumerable).
 */
export function sdkLogFields(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) fields[key] = value instanceof Error ? serializeError(value) : value;
  return fields;
}
