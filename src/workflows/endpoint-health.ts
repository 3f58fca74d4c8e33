/**
 * `endpointHealth`: one per failing endpoint, id `endpoint-health/<ep>` (PRODUCT.md §5, §8).
 *
 * Started by signal-with-start from a failed attempt or a disable only, so healthy traffic costs
 * no health work. Each wake-up (a signal or its check timer) asks `checkEndpointHealth`, which
 * evaluates the application's disable policy on the store's statistics and disables the endpoint
 * when the policy says so. Once the endpoint is disabled (here, through the API or by a 410), it
 * stops the deliveries still waiting to retry. The workflow ends when the endpoint is healthy
 * again or disabled, and continues-as-new now and then so its history stays bounded.
 */
import { condition, continueAsNew, defineSignal, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, HealthCheckResult } from '../activities';
import { formatDuration } from '../domain/schedule';
import { HooklineEndpoint } from './search-attributes';

export interface EndpointHealthInput {
  endpointId: string;
}

export type EndpointHealthResult = Pick<HealthCheckResult, 'verdict' | 'reason'>;

/** A delivery to this endpoint failed, or it was disabled: look again now. */
export const failureSignal = defineSignal('failure');

export function endpointHealthWorkflowId(endpointId: string): string {
  return `endpoint-health/${endpointId}`;
}

/** Signal-with-start options that wake the endpoint's health workflow, starting it if needed. */
export function wakeEndpointHealth(endpointId: string, taskQueue: string) {
  return {
    workflowId: endpointHealthWorkflowId(endpointId),
    taskQueue,
    signal: failureSignal,
    signalArgs: [] as [],
    args: [{ endpointId }] as [EndpointHealthInput],
    typedSearchAttributes: [{ key: HooklineEndpoint, value: endpointId }],
  };
}

/** Checks per run before continuing as new: each costs about a dozen history events. */
const CHECKS_PER_RUN = 100;
const MAX_RUN_EVENTS = 2_000;

const { checkEndpointHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

// Signals every delivery the disable ended; a retry resumes from the heartbeated cursor.
const { stopDisabledDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '1m',
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
    // Disabled by this check, by the API or by a 410: the deliveries waiting to retry stop now.
    // patched(): runs that ended `disabled` before this step existed still replay.
    if (result.verdict === 'disabled' && patched('stop-disabled-deliveries')) await stopDisabledDeliveries({ endpointId: input.endpointId });
    if (result.verdict !== 'watching') return { verdict: result.verdict, reason: result.reason };
    await condition(() => failed, result.nextCheckMs, { summary: `watching: check again in ${formatDuration(result.nextCheckMs)} or on the next failure` });
  }
  return continueAsNew<typeof endpointHealth>(input);
}
