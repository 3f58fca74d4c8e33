/** The `checkEndpointHealth` activity: evaluates the application's disable policy from the store. */
import { evaluatePolicy, nextCheckDelayMs, statsWindowMs, type HealthVerdict } from '../domain/health-policy';
import type { Store } from '../store';

export interface HealthCheckResult {
  /** `disabled`: the endpoint is (now or already) disabled; `gone`: it was deleted. */
  verdict: HealthVerdict | 'disabled' | 'gone';
  reason: string;
  /** When to look again while the verdict is `watching`. */
  nextCheckMs: number;
}

export function createHealthCheck(store: Store, now: () => Date = () => new Date()) {
  return async function checkEndpointHealth({ endpointId }: { endpointId: string }): Promise<HealthCheckResult> {
    const subject = await store.health.subject(endpointId);
    if (!subject) return { verdict: 'gone', reason: 'endpoint deleted', nextCheckMs: 0 };
    if (subject.status === 'disabled') return { verdict: 'disabled', reason: 'already disabled', nextCheckMs: 0 };
    const at = now();
    const windowStart = new Date(at.getTime() - statsWindowMs(subject.policy));
    const since = subject.resetAt && subject.resetAt > windowStart ? subject.resetAt : windowStart;
    const stats = await store.health.stats(endpointId, since);
    const { verdict, reason } = evaluatePolicy(subject.policy, stats, at);
    if (verdict === 'disable') {
      await store.health.disable(endpointId, reason, at);
      return { verdict: 'disabled', reason, nextCheckMs: 0 };
    }
    return { verdict, reason, nextCheckMs: verdict === 'watching' ? nextCheckDelayMs(subject.policy, stats, at) : 0 };
  };
}
