/**
 * Configuration: environment variables, parsed once (PRODUCT.md §9). Names carry their units.
 * Secrets parsed here (admin key, encryption key) are never logged.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { DB_QUERY_TIMEOUT_MS } from './store/db';
import { parseAllowSubnets, type ParsedSubnet } from './domain/address-rules';
import { DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT } from './domain/endpoint-gate';
import { isStandardSecret } from './domain/signing';
import { checkEndpointUrl, type UrlPolicy } from './domain/url-rules';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A number in decimal digits: coercion would read `0x1F90`, `1e3` and ` 80` as numbers too. */
const num = <T extends z.ZodType<number, number>>(schema: T) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number in decimal digits')
    .transform(Number)
    .pipe(schema);
/** May be unset. (An empty value is unset too: `loadConfig` drops empty ones before parsing.) */
const optional = z.string().optional();

export const Role = { all: 'all', api: 'api', worker: 'worker' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** See `apiMaxEventLoopDelayMs`. */
export const DEFAULT_API_MAX_EVENT_LOOP_DELAY_MS = 200;

const EnvSchema = z.object({
  HOOKLINE_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  HOOKLINE_API_PORT: num(z.number().int().min(0).max(65535)).default(8080),
  HOOKLINE_API_HOST: z.string().default('127.0.0.1'),
  HOOKLINE_ADMIN_KEY: optional,
  HOOKLINE_DATA_DIR: z.string().default('.hookline'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// or postgresql:// URL').optional(),
  TEMPORAL_ADDRESS: optional,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  HOOKLINE_TASK_QUEUE: z.string().default('hookline'),
  HOOKLINE_TEMPORAL_PORT: num(z.number().int().min(0).max(65535)).default(7233),
  HOOKLINE_TEMPORAL_UI_PORT: num(z.number().int().min(0).max(65535)).default(8233),
  TEMPORAL_CLI_PATH: optional,
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CA_FILE: optional,
  TEMPORAL_TLS_CERT_FILE: optional,
  TEMPORAL_TLS_KEY_FILE: optional,
  TEMPORAL_TLS_SERVER_NAME: optional,
  TEMPORAL_API_KEY: optional,
  HOOKLINE_ALLOW_INSECURE_URLS: bool.default(false),
  HOOKLINE_ENCRYPTION_KEY: optional,
  HOOKLINE_PREVIOUS_ENCRYPTION_KEYS: z.string().default(''),
  HOOKLINE_ALLOW_SUBNETS: z.string().default(''),
  HOOKLINE_OPERATOR_WEBHOOK_URL: optional,
  HOOKLINE_OPERATOR_WEBHOOK_SECRET: optional,
  HOOKLINE_EGRESS_PROXY_URL: z.string().refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), 'must be the http:// or https:// URL of a CONNECT proxy').optional(),
  HOOKLINE_TLS_CA_FILE: optional,
  HOOKLINE_MAX_ENDPOINTS_PER_APP: num(z.number().int().positive()).default(50),
  HOOKLINE_API_RATE_LIMIT_PER_S: num(z.number().positive()).default(100),
  HOOKLINE_API_RATE_BURST: num(z.number().int().positive()).default(200),
  HOOKLINE_API_MAX_IN_FLIGHT: num(z.number().int().positive()).default(512),
  HOOKLINE_API_MAX_IN_FLIGHT_PER_APP_KEY: num(z.number().int().positive()).default(32),
  HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS: num(z.number().int().nonnegative()).optional(),
  HOOKLINE_MAX_PAYLOAD_BYTES: num(z.number().int().positive().max(1024 * 1024)).default(256 * 1024),
  HOOKLINE_DISPATCH_INTERVAL_MS: num(z.number().int().positive()).default(10_000),
  HOOKLINE_DISPATCH_GRACE_MS: num(z.number().int().nonnegative()).default(5_000),
  HOOKLINE_FAN_OUT_WINDOW: num(z.number().int().min(1).max(1000)).default(250),
  HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS: num(z.number().int().min(0)).default(250),
  HOOKLINE_WORKER_TASK_SLOTS: num(z.number().int().min(2)).default(200),
  HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT: num(z.number().int().min(1)).default(DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT),
  HOOKLINE_DB_QUERY_TIMEOUT_MS: num(z.number().int().min(0)).default(DB_QUERY_TIMEOUT_MS),
  HOOKLINE_METRICS_PORT: num(z.number().int().min(0).max(65535)).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = {
  role: Role;
  apiPort: number;
  apiHost: string;
  adminKey: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  temporal: {
    /** Unset means: start a local dev server (only in role `all`). */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    devServerPort: number;
    devServerUiPort: number;
    cliPath: string | undefined;
    /** TLS to TEMPORAL_ADDRESS (undefined: plaintext), with a client certificate for mTLS. */
    tls: TLSConfig | undefined;
    /** Temporal Cloud's API key, sent on every call (implies TLS). */
    apiKey: string | undefined;
  };
  allowInsecureUrls: boolean;
  /** Subnets the SSRF guard lets through (HOOKLINE_ALLOW_SUBNETS), parsed once. */
  allowSubnets: ParsedSubnet[];
  egressProxyUrl: string | undefined;
  /** Where operational events go (endpoint.disabled, endpoint.enabled, delivery.exhausted, delivery.recovered). */
  operatorWebhook: { url: string; secret: string } | undefined;
  /** Extra trusted CA certificates (PEM), added to the system's roots. */
  extraCaPem: string | undefined;
  maxEndpointsPerApp: number;
  /** Per API key: a request rate, and (application keys) requests open at once. */
  apiRateLimit: { rate: { perS: number; burst: number }; maxInFlightPerAppKey: number };
  apiMaxInFlight: number;
  /**
   * Event-loop delay past which the API sheds every /v1 request; 0 turns the check off. On by
   * default only in role `api`: where a worker shares the loop (role `all`), its deliveries make
   * the loop late too, and shedding would refuse events because deliveries are busy.
   */
  apiMaxEventLoopDelayMs: number;
  /** A port of its own for `/metrics` (any role; the API also serves it on its port). */
  metricsPort: number | undefined;
  encryptionKey: string | undefined;
  /** Keys that sealed older values: still read, never written (comma-separated, base64 or hex). */
  previousEncryptionKeys: string[];
  maxPayloadBytes: number;
  dispatchIntervalMs: number;
  dispatchGraceMs: number;
  fanOutWindow: number;
  /**
   * Workflows a worker keeps in memory between tasks. A delivery parked on a retry timer needs
   * no place here: evicted, it is replayed from its short history when the timer fires. With
   * 20,000 parked, 250 kept the worker 268 MB smaller than 1,000 and cost no measurable
   * throughput (docs/performance.md).
   */
  workerMaxCachedWorkflows: number;
  /** Workflow tasks and local activities a worker runs at once (src/worker.ts, `taskSlotOptions`). */
  workerTaskSlots: number;
  /** POSTs one endpoint may have open from one worker process; the rest wait on timers. */
  workerMaxInFlightPerEndpoint: number;
  /** PostgreSQL: a query (or a wait for a connection) with no answer in this long fails; 0 means no limit. */
  dbQueryTimeoutMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
};

function operatorWebhook(url: string | undefined, secret: string | undefined, policy: UrlPolicy): Config['operatorWebhook'] {
  if (!url) return undefined;
  // The operator's URL is sent to like any endpoint's: refuse at start what every send would refuse.
  const verdict = checkEndpointUrl(url, policy);
  if (!verdict.ok) throw new Error(`invalid configuration: HOOKLINE_OPERATOR_WEBHOOK_URL is refused: ${verdict.reason} (an internal address needs HOOKLINE_ALLOW_SUBNETS)`);
  if (!secret || !isStandardSecret(secret)) {
    throw new Error('invalid configuration: HOOKLINE_OPERATOR_WEBHOOK_URL needs HOOKLINE_OPERATOR_WEBHOOK_SECRET, a "whsec_" secret (base64 of 24–64 bytes)');
  }
  return { url, secret };
}

/**
 * A PEM file a setting names, read at start: a missing or unreadable file, or one without a
 * `label` block (`CERTIFICATE`; `PRIVATE KEY` also matches `RSA PRIVATE KEY` and `EC PRIVATE KEY`),
 * is a configuration error that names the setting.
 */
function readPem(setting: string, path: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`invalid configuration: ${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) throw new Error(`invalid configuration: ${setting}: ${path} holds no PEM ${label.toLowerCase()}`);
  return text;
}

/** TLS to a cluster of your own (mTLS) or Temporal Cloud; none of it applies to the local dev server. */
function temporalTls(e: z.infer<typeof EnvSchema>): TLSConfig | undefined {
  const { TEMPORAL_TLS_CA_FILE: caFile, TEMPORAL_TLS_CERT_FILE: certFile, TEMPORAL_TLS_KEY_FILE: keyFile, TEMPORAL_TLS_SERVER_NAME: serverName } = e;
  const wanted = e.TEMPORAL_TLS || caFile !== undefined || certFile !== undefined || keyFile !== undefined || serverName !== undefined || e.TEMPORAL_API_KEY !== undefined;
  if (!wanted) return undefined;
  if (e.TEMPORAL_ADDRESS === undefined) throw new Error('invalid configuration: TEMPORAL_TLS_* and TEMPORAL_API_KEY need TEMPORAL_ADDRESS (the local dev server speaks plaintext)');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error('invalid configuration: set both TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE, or neither');
  return {
    ...(caFile !== undefined && { serverRootCACertificate: Buffer.from(readPem('TEMPORAL_TLS_CA_FILE', caFile, 'CERTIFICATE')) }),
    ...(certFile !== undefined &&
      keyFile !== undefined && { clientCertPair: { crt: Buffer.from(readPem('TEMPORAL_TLS_CERT_FILE', certFile, 'CERTIFICATE')), key: Buffer.from(readPem('TEMPORAL_TLS_KEY_FILE', keyFile, 'PRIVATE KEY')) } }),
    ...(serverName !== undefined && { serverNameOverride: serverName }),
  };
}

/**
 * Outside the embedded setup (one process on its own data directory) the keys must be given. A
 * process that made its own encryption key would seal secrets that no other process can open,
 * and one restarted without its data directory could open none of them; each API process would
 * accept a different admin key.
 */
function requireSharedKeys(e: z.infer<typeof EnvSchema>): void {
  if (e.DATABASE_URL === undefined && e.HOOKLINE_ROLE === Role.all) return;
  const missing = [!e.HOOKLINE_ENCRYPTION_KEY && 'HOOKLINE_ENCRYPTION_KEY', e.HOOKLINE_ROLE !== Role.worker && !e.HOOKLINE_ADMIN_KEY && 'HOOKLINE_ADMIN_KEY'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `invalid configuration: set ${missing.join(' and ')}: with DATABASE_URL or HOOKLINE_ROLE=${e.HOOKLINE_ROLE}, every process must share the keys (they are generated only for the embedded setup; for example, HOOKLINE_ENCRYPTION_KEY=$(openssl rand -base64 32) and HOOKLINE_ADMIN_KEY=$(openssl rand -hex 24))`,
    );
  }
}

/** An admin key shorter than this is refused: it guards every application. */
const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * Split roles share one store: the embedded PGlite belongs to the process that opened it. A worker
 * on a PGlite of its own would resolve every event to no endpoint and complete its fan-out, and
 * the event would be lost.
 */
function requireSharedStore(e: z.infer<typeof EnvSchema>): void {
  if (e.HOOKLINE_ROLE !== Role.all && e.DATABASE_URL === undefined) {
    throw new Error(`invalid configuration: set DATABASE_URL: with HOOKLINE_ROLE=${e.HOOKLINE_ROLE}, the API and the workers must share one PostgreSQL (the embedded PGlite is one process's own)`);
  }
}

function requireStrongAdminKey(e: z.infer<typeof EnvSchema>): void {
  if (e.HOOKLINE_ADMIN_KEY !== undefined && e.HOOKLINE_ADMIN_KEY.length < MIN_ADMIN_KEY_LENGTH) {
    throw new Error(`invalid configuration: HOOKLINE_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters (for example: openssl rand -hex 24)`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty (as compose's `${VAR:-}` gives) counts as unset everywhere: the default, never 0 or false.
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  requireSharedKeys(e);
  requireSharedStore(e);
  requireStrongAdminKey(e);
  const allowSubnets = parseAllowSubnets(e.HOOKLINE_ALLOW_SUBNETS);
  return {
    role: e.HOOKLINE_ROLE,
    apiPort: e.HOOKLINE_API_PORT,
    apiHost: e.HOOKLINE_API_HOST,
    adminKey: e.HOOKLINE_ADMIN_KEY,
    dataDir: e.HOOKLINE_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.HOOKLINE_TASK_QUEUE,
      devServerPort: e.HOOKLINE_TEMPORAL_PORT,
      devServerUiPort: e.HOOKLINE_TEMPORAL_UI_PORT,
      cliPath: e.TEMPORAL_CLI_PATH,
      tls: temporalTls(e),
      apiKey: e.TEMPORAL_API_KEY,
    },
    allowInsecureUrls: e.HOOKLINE_ALLOW_INSECURE_URLS,
    allowSubnets,
    egressProxyUrl: e.HOOKLINE_EGRESS_PROXY_URL,
    operatorWebhook: operatorWebhook(e.HOOKLINE_OPERATOR_WEBHOOK_URL, e.HOOKLINE_OPERATOR_WEBHOOK_SECRET, { allowInsecure: e.HOOKLINE_ALLOW_INSECURE_URLS, allowSubnets }),
    extraCaPem: e.HOOKLINE_TLS_CA_FILE ? readPem('HOOKLINE_TLS_CA_FILE', e.HOOKLINE_TLS_CA_FILE, 'CERTIFICATE') : undefined,
    maxEndpointsPerApp: e.HOOKLINE_MAX_ENDPOINTS_PER_APP,
    apiRateLimit: { rate: { perS: e.HOOKLINE_API_RATE_LIMIT_PER_S, burst: e.HOOKLINE_API_RATE_BURST }, maxInFlightPerAppKey: e.HOOKLINE_API_MAX_IN_FLIGHT_PER_APP_KEY },
    apiMaxInFlight: e.HOOKLINE_API_MAX_IN_FLIGHT,
    apiMaxEventLoopDelayMs: e.HOOKLINE_API_MAX_EVENT_LOOP_DELAY_MS ?? (e.HOOKLINE_ROLE === Role.api ? DEFAULT_API_MAX_EVENT_LOOP_DELAY_MS : 0),
    metricsPort: e.HOOKLINE_METRICS_PORT,
    encryptionKey: e.HOOKLINE_ENCRYPTION_KEY,
    previousEncryptionKeys: e.HOOKLINE_PREVIOUS_ENCRYPTION_KEYS.split(',').map((k) => k.trim()).filter(Boolean),
    maxPayloadBytes: e.HOOKLINE_MAX_PAYLOAD_BYTES,
    dispatchIntervalMs: e.HOOKLINE_DISPATCH_INTERVAL_MS,
    dispatchGraceMs: e.HOOKLINE_DISPATCH_GRACE_MS,
    fanOutWindow: e.HOOKLINE_FAN_OUT_WINDOW,
    workerMaxCachedWorkflows: e.HOOKLINE_WORKER_MAX_CACHED_WORKFLOWS,
    workerTaskSlots: e.HOOKLINE_WORKER_TASK_SLOTS,
    workerMaxInFlightPerEndpoint: e.HOOKLINE_WORKER_MAX_IN_FLIGHT_PER_ENDPOINT,
    dbQueryTimeoutMs: e.HOOKLINE_DB_QUERY_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
