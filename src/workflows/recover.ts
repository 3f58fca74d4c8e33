/**
 * `recover`: one per recovery request, id `recover/<rcv>` (PRODUCT.md §5, §8).
 *
 * Resends every failed or skipped delivery of one endpoint created in [since, until), oldest
 * first, as `manual` attempts (each delivery's own workflow makes the attempt, exactly as a
 * resend does). It is rate-limited (at most `perS` resends per second, spaced by durable
 * timers), resumable (the cursor and counts travel through continue-as-new, and a retried page
 * resumes from its heartbeat), and reports progress through the `progress` query.
 */
import { continueAsNew, defineQuery, patched, proxyActivities, setHandler, sleep, upsertMemo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface RecoverInput {
  recoveryId: string;
  appId: string;
  endpointId: string;
  /** Window of delivery creation times, epoch milliseconds, `until` exclusive. */
  sinceMs: number;
  untilMs: number;
  /** Resends per second at most. */
  perS: number;
  /**
   * When the recovery began, epoch ms: a delivery changed since (resent by a resend or another
   * recovery) is not resent again. Absent in recoveries started before it existed.
   */
  asOfMs?: number;
  /** Carried through continue-as-new. */
  after?: string | null;
  resent?: number;
}

/** What the `progress` query answers: the request and how far it has come. */
export interface RecoverProgress extends Omit<RecoverInput, 'after' | 'resent'> {
  /** `stopped`: terminated by an operator, or its endpoint was disabled or deleted, before it finished. */
  status: 'running' | 'completed' | 'stopped';
  resent: number;
  /** The last delivery resent: everything up to it (by id) is done. */
  after: string | null;
}

export type RecoverResult = Pick<RecoverProgress, 'resent' | 'status'>;

export const recoverProgressQuery = defineQuery<RecoverProgress>('progress');

export function recoverWorkflowId(recoveryId: string): string {
  return `recover/${recoveryId}`;
}

export const DEFAULT_RECOVER_PER_S = 20;

/** The memo key under which a running recovery keeps its count of resent deliveries. */
export const RESENT_MEMO = 'resent';

/** Pages per run before continuing as new: each page costs about a dozen history events. */
const PAGES_PER_RUN = 100;

const { recoverPage } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

export async function recover(input: RecoverInput): Promise<RecoverResult> {
  const { after, resent, ...request } = input;
  const progress: RecoverProgress = { ...request, status: 'running', resent: resent ?? 0, after: after ?? null };
  setHandler(recoverProgressQuery, () => progress);
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    // One page is one second's allowance, so the timer below keeps the rate.
    const result = await recoverPage({ endpointId: input.endpointId, sinceMs: input.sinceMs, untilMs: input.untilMs, after: progress.after, limit: input.perS, asOfMs: input.asOfMs });
    progress.resent += result.resent;
    progress.after = result.lastId;
    // A short page was the last (results recorded before `more` existed: one that resent fewer
    // than its limit); a disabled or deleted endpoint ends the recovery too.
    const last = result.more === undefined ? result.resent < input.perS : !result.more;
    if (result.endpointGone || last) {
      progress.status = result.endpointGone ? 'stopped' : 'completed';
      return { resent: progress.resent, status: progress.status };
    }
    // The count, where the API can read it without a worker once the run has ended (an
    // operator terminated it). patched(): runs recorded before this step still replay.
    if (patched('recover-progress-memo')) upsertMemo({ [RESENT_MEMO]: progress.resent });
    await sleep(1_000, { summary: `recover: ${progress.resent} resent so far` });
  }
  return continueAsNew<typeof recover>({ ...input, after: progress.after, resent: progress.resent });
}
