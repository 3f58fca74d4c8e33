/**
 * Readiness probes, shared by the API's `/readyz` and the metrics port's (which is how a
 * worker-only process is watched). Each probe is bounded: an orchestrator's probe gives up after
 * a few seconds, and must then read "unavailable", not a timeout (a gRPC call to a Temporal that
 * is down would wait for its own deadline, about 20 s).
 */
export const READINESS_TIMEOUT_MS = 2_000;

export type Probes = Record<string, () => Promise<void>>;

export interface Readiness {
  ok: boolean;
  checks: Record<string, 'ok' | 'unavailable'>;
}

export async function checkReadiness(probes: Probes, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const checks: Readiness['checks'] = {};
  await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name}: no answer in ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), late]);
        checks[name] = 'ok';
      } catch {
        checks[name] = 'unavailable';
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
}
