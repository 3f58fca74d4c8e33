/** The endpoint's `rate_limit_per_s`: a slot reserved in the store before each send. */
import type { Store } from '../store';

/** Milliseconds to wait before sending to a rate-limited endpoint; 0 means send now. */
export async function throttle(store: Store, endpointId: string, perS: number, slotReserved: boolean, signal: AbortSignal | undefined): Promise<number> {
  if (!slotReserved) {
    const waitMs = await store.health.reserveSlot(endpointId, perS);
    if (waitMs > 5) return waitMs;
  }
  // At the gate a short wait is spent here: another round through a workflow timer would add its
  // own latency to every send and halve the rate the endpoint allows.
  for (let tries = 0; tries < 20; tries++) {
    const waitMs = await store.health.claimSend(endpointId, perS);
    if (waitMs === 0) return 0;
    if (waitMs > MAX_GATE_WAIT_MS) return waitMs;
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  return Math.ceil(1000 / perS);
}

const MAX_GATE_WAIT_MS = 1_000;

