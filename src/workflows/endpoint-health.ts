/**
 * `endpointHealth`: one per failing endpoint, id `endpoint-health/<ep>` (PRODUCT.md §5, §8).
 *
 * Started by signal-with-start from a failed attempt only, so healthy traffic costs no health
 * work. Each wake-up (a failure signal or its check timer) asks `checkEndpointHealth`, which
 * evaluates the application's disable policy on the store's statistics and disables the endpoint
 * when the policy says so. The workflow ends when the endpoint is healthy again or disabled, and
 * continues-as-new now and then so its history stays bounded.
 */
import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, HealthCheckResult } from '../activities';
import { formatDuration } from '../domain/schedule';

export interface EndpointHealthInput {
  endpointId: string;
}

export type EndpointHealthResult = Pick<HealthCheckResult, 'verdict' | 'reason'>;

/** A delivery to this endpoint failed: look again now. */
export const failureSignal = defineSignal('failure');

export function endpointHealthWorkflowId(endpointId: string): string {
  return `endpoint-health/${endpointId}`;
}

/** Checks per run before continuing as new: each costs about a dozen history events. */
const CHECKS_PER_RUN = 100;
const MAX_RUN_EVENTS = 2_000;

const { checkEndpointHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

export async function endpointHealth(input: EndpointHealthInput): Promise<EndpointHealthResult> {
  let failed = false;
  setHandler(failureSignal, () => {
    failed = true;
  });
  // Checks, and failure signals between them, both add events: either bounds the run.
  for (let check = 0; check < CHECKS_PER_RUN && !workflowInfo().continueAsNewSuggested && workflowInfo().historyLength < MAX_RUN_EVENTS; check++) {
    failed = false;
    const result = await checkEndpointHealth({ endpointId: input.endpointId });
    if (result.verdict !== 'watching') return { verdict: result.verdict, reason: result.reason };
    await condition(() => failed, result.nextCheckMs, { summary: `watching: check again in ${formatDuration(result.nextCheckMs)} or on the next failure` });
  }
  return continueAsNew<typeof endpointHealth>(input);
}
