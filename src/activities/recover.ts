/**
 * The `recoverPage` activity: one page of a recovery (PRODUCT.md §5). It lists the endpoint's
 * failed and skipped deliveries created in the window, after the cursor, and resends each one,
 * heartbeating as it goes so that a retried page resumes after the last resend instead of
 * resending again.
 */
import { Context } from '@temporalio/activity';
import type { Delivery } from '../domain/model';
import type { Store } from '../store';

export interface RecoverDeps {
  store: Store;
  /** Resend: marks the delivery pending and signal-with-starts its workflow for a manual attempt. */
  resend: (d: Delivery) => Promise<void>;
}

export interface RecoverPageInput {
  endpointId: string;
  sinceMs: number;
  untilMs: number;
  after: string | null;
  limit: number;
}

export interface RecoverPageResult {
  /** Deliveries this page resent: all it found, so a short page is the last. */
  resent: number;
  /** The cursor after this page. */
  lastId: string | null;
  /** The endpoint is disabled or deleted: resending now would only fail again. */
  endpointGone: boolean;
}

interface Checkpoint {
  lastId: string;
  resent: number;
}

export function createRecoverPage(deps: RecoverDeps) {
  return async function recoverPage(input: RecoverPageInput): Promise<RecoverPageResult> {
    const activity = Context.current();
    const resumed = activity.info.heartbeatDetails as Checkpoint | undefined;
    const subject = await deps.store.health.subject(input.endpointId);
    if (!subject || subject.status !== 'active') return { resent: resumed?.resent ?? 0, lastId: resumed?.lastId ?? input.after, endpointGone: true };
    const done = resumed ?? { lastId: input.after, resent: 0 };
    const page = await deps.store.deliveries.recoverable({
      endpointId: input.endpointId,
      since: new Date(input.sinceMs),
      until: new Date(input.untilMs),
      after: done.lastId,
      limit: input.limit - done.resent,
    });
    let { resent, lastId } = done;
    for (const d of page) {
      await deps.resend(d);
      resent++;
      lastId = d.id;
      activity.heartbeat({ lastId, resent } satisfies Checkpoint);
    }
    return { resent, lastId, endpointGone: false };
  };
}
