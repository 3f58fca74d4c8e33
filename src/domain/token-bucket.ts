/**
 * A token bucket as a pure function: `burst` tokens at most, refilled at `perS` per second.
 * The caller keeps the state; time comes in as an argument so tests need no clock.
 */
export interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface BucketRule {
  perS: number;
  burst: number;
}

export type TakeResult = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterMs: number };

export function take(bucket: Bucket | undefined, rule: BucketRule, nowMs: number): TakeResult {
  const start = bucket ?? { tokens: rule.burst, updatedMs: nowMs };
  const elapsedS = Math.max(0, nowMs - start.updatedMs) / 1000;
  const tokens = Math.min(rule.burst, start.tokens + elapsedS * rule.perS);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, updatedMs: nowMs } };
  return { ok: false, bucket: { tokens, updatedMs: nowMs }, retryAfterMs: Math.ceil(((1 - tokens) / rule.perS) * 1000) };
}
