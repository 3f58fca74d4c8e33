/**
 * Temporal for Hookline's processes: connections to the cluster (or to the local dev server,
 * src/dev-server.ts), the namespace's search attributes, and the calls the worker and the API
 * make on other workflows' behalf (failure reports, resends, disables).
 */
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type Client, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { DeliveryStatus, type Delivery } from './domain/model';
import type { Logger } from './logger';
import type { Store } from './store';
import { delivery, deliveryWorkflowId, endpointDisabledSignal, resendDeliveryOptions } from './workflows/delivery';
import { endpointHealth, wakeEndpointHealth } from './workflows/endpoint-health';
import { hooklineSearchAttributes } from './workflows/search-attributes';

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
  const retries = closableRetries();
  const client = await Connection.connect({ ...options, interceptors: [retries.interceptor] });
  const worker = await NativeConnection.connect(options);
  return {
    client,
    worker,
    close: async () => {
      await worker.close();
      await retries.drain();
      await client.close();
    },
  };
}

/**
 * The SDK's retries of failed client calls (its default policy), made safe to close under. A retry
 * waits on a timer that nothing clears when its caller gives up (a deadline, an abort signal); if
 * the connection is closed before the timer fires, the retry throws "Channel has been shut down"
 * from the timer: an uncaught exception. So once closing begins no retry is scheduled, and
 * `drain` waits out those already scheduled (at most the policy's 5 s interval, with jitter).
 */
export function closableRetries() {
  const policy = defaultGrpcRetryOptions();
  let closing = false;
  let scheduledUntil = 0;
  return {
    interceptor: makeGrpcRetryInterceptor({
      retryableDecider: (attempt, status) => !closing && policy.retryableDecider(attempt, status),
      // Called only once a retry is decided: its timer is set for this long.
      delayFunction: (attempt, status) => {
        const ms = policy.delayFunction(attempt, status);
        scheduledUntil = Math.max(scheduledUntil, performance.now() + ms);
        return ms;
      },
    }),
    async drain(): Promise<void> {
      closing = true;
      const wait = scheduledUntil - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 20));
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

/**
 * Sends a signal that only a running workflow needs: true if it was delivered, false if the
 * workflow is not running (it ended, or never started); any other failure is thrown.
 */
export async function signalIfRunning(signal: Promise<void>): Promise<boolean> {
  try {
    await signal;
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Tells a delivery's workflow that its endpoint was disabled; one that already ended is fine. */
export function deliveryStopper(client: Client) {
  return async (eventId: string, endpointId: string, statusVersion: number): Promise<void> => {
    await signalIfRunning(client.workflow.getHandle(deliveryWorkflowId(eventId, endpointId)).signal(endpointDisabledSignal, { statusVersion }));
  };
}
