/**
 * Health activities: `checkEndpointHealth` evaluates the application's disable policy from the
 * store; `stopDisabledDeliveries` ends the retry waits that a disable made pointless.
 */
import { Context } from '@temporalio/activity';
import { evaluatePolicy, nextCheckDelayMs, statsWindowMs, verdictFromRecent, type AttemptStats, type DisablePolicy, type HealthVerdict, type RecentAttempts } from '../domain/health-policy';
import { DisableCause, type Metrics } from '../metrics';
import type { Store } from '../store';

export interface HealthCheckResult {
  /** `disabled`: the endpoint is (now or already) disabled; `gone`: it was deleted. */
  verdict: HealthVerdict | 'disabled' | 'gone';
  reason: string;
  /** When to look again while the verdict is `watching`. */
  nextCheckMs: number;
}

export function createHealthCheck(store: Store, metrics: Metrics, now: () => Date = () => new Date()) {
  return async function checkEndpointHealth({ endpointId }: { endpointId: string }): Promise<HealthCheckResult> {
    const subject = await store.health.subject(endpointId);
    if (!subject) return { verdict: 'gone', reason: 'endpoint deleted', nextCheckMs: 0 };
    if (subject.status === 'disabled') return { verdict: 'disabled', reason: 'already disabled', nextCheckMs: 0 };
    const { policy } = subject;
    const at = now();
    const windowStart = new Date(at.getTime() - statsWindowMs(policy));
    const since = subject.resetAt && subject.resetAt > windowStart ? subject.resetAt : windowStart;
    // The streak only matters to `consecutive`, which needs no more of it than its threshold.
    const streak = { since: subject.resetAt, cap: policy.type === 'consecutive' ? policy.threshold : 0 };
    const recent = await store.health.recent(endpointId, since, { lastSuccess: policy.type === 'failure_rate', streak });
    const { verdict, reason, nextCheckMs } = verdictFromRecent(policy, recent, at) ?? (await fromWindow(store, endpointId, since, policy, recent, at));
    if (verdict === 'disable') {
      if (await store.health.disable(endpointId, reason, at)) metrics.endpointsDisabled.inc({ cause: DisableCause.policy });
      return { verdict: 'disabled', reason, nextCheckMs: 0 };
    }
    return { verdict, reason, nextCheckMs: verdict === 'watching' ? nextCheckMs : 0 };
  };
}

/** The policy on the whole window's counts: failure_rate, when the newest attempts cannot decide. */
async function fromWindow(store: Store, endpointId: string, since: Date, policy: DisablePolicy, recent: RecentAttempts, at: Date) {
  const stats: AttemptStats = { ...(await store.health.windowStats(endpointId, since)), consecutiveFailures: recent.consecutiveFailures };
  return { ...evaluatePolicy(policy, stats, at), nextCheckMs: nextCheckDelayMs(policy, stats, at) };
}

export interface StopDeps {
  store: Store;
  /** Tells the delivery's workflow that its endpoint was disabled; a finished workflow is no error. */
  stopDelivery: (eventId: string, endpointId: string, statusVersion: number) => Promise<void>;
}

const STOP_PAGE = 200;
const STOP_CONCURRENCY = 16;

/**
 * PRODUCT.md §5: on disable, pending deliveries stop retrying. The disable already made them
 * `failed` in the store; this signals each one's workflow, so it ends now instead of at its next
 * retry timer (up to a day later) and the Web UI agrees with the API. It pages by delivery id and
 * heartbeats the cursor, so a retried activity resumes where the last one stopped.
 */
export function createStopDisabledDeliveries(deps: StopDeps) {
  return async function stopDisabledDeliveries({ endpointId }: { endpointId: string }): Promise<{ stopped: number }> {
    const activity = Context.current();
    let after = (activity.info.heartbeatDetails as string | undefined) ?? null;
    let stopped = 0;
    for (;;) {
      const page = await deps.store.health.endedByDisable(endpointId, after, STOP_PAGE);
      for (let i = 0; i < page.length; i += STOP_CONCURRENCY) {
        await Promise.all(page.slice(i, i + STOP_CONCURRENCY).map((d) => deps.stopDelivery(d.eventId, endpointId, d.statusVersion)));
      }
      stopped += page.length;
      if (page.length < STOP_PAGE) return { stopped };
      after = page[page.length - 1]!.id;
      activity.heartbeat(after);
    }
  };
}
