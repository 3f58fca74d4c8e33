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
  /** When the recovery began, epoch ms: deliveries changed since are not its to resend. Absent in recoveries started before it existed. */
  asOfMs?: number;
}

export interface RecoverPageResult {
  /** Deliveries this page resent. */
  resent: number;
  /** The page was full: there may be more. (Absent from results recorded before it: then a page that resent fewer than its limit was the last.) */
  more?: boolean;
  /** The cursor after this page. */
  lastId: string | null;
  /** The endpoint is disabled or deleted: resending now would only fail again. */
  endpointGone: boolean;
}

interface Checkpoint {
  lastId: string;
  resent: number;
  /** Deliveries looked at, resent or taken by another recovery; absent in checkpoints written before it (then equal to `resent`). */
  scanned?: number;
}

/** Resends `d` if this recovery takes it; false if another one (or a resend) changed it first. */
async function resendTaken(deps: RecoverDeps, d: Delivery): Promise<boolean> {
  const claimedAt = new Date();
  if (!(await deps.store.deliveries.claimForRecovery(d, claimedAt))) return false;
  try {
    await deps.resend(d);
  } catch (err) {
    // Given back, so the page's retry (which resumes before it) finds it again. If that fails
    // too (or the worker is lost between the take and the resend), this recovery leaves the
    // delivery failed, changed after it began: a later recovery sends it.
    await deps.store.deliveries.releaseRecoveryClaim(d, claimedAt).catch((releaseErr: unknown) => {
      Context.current().log.warn('a delivery taken for a recovery could not be given back; a later recovery resends it', { deliveryId: d.id, error: String(releaseErr) });
    });
    throw err;
  }
  return true;
}

export function createRecoverPage(deps: RecoverDeps) {
  return async function recoverPage(input: RecoverPageInput): Promise<RecoverPageResult> {
    const activity = Context.current();
    const resumed = activity.info.heartbeatDetails as Checkpoint | undefined;
    const subject = await deps.store.health.subject(input.endpointId);
    if (!subject || subject.status !== 'active') return { resent: resumed?.resent ?? 0, lastId: resumed?.lastId ?? input.after, endpointGone: true };
    const done: Omit<Checkpoint, 'lastId'> & { lastId: string | null } = resumed ?? { lastId: input.after, resent: 0 };
    let scanned = done.scanned ?? done.resent;
    const page = await deps.store.deliveries.recoverable({
      endpointId: input.endpointId,
      since: new Date(input.sinceMs),
      until: new Date(input.untilMs),
      after: done.lastId,
      limit: input.limit - scanned,
      asOf: input.asOfMs === undefined ? undefined : new Date(input.asOfMs),
    });
    let { resent, lastId } = done;
    for (const d of page) {
      // Overlapping recoveries of one endpoint read the same deliveries: each is resent by the
      // one that takes it first. (Without asOf, a recovery started before this rule resends all.)
      if (input.asOfMs !== undefined) {
        if (await resendTaken(deps, d)) resent++;
      } else {
        await deps.resend(d);
        resent++;
      }
      scanned++;
      lastId = d.id;
      activity.heartbeat({ lastId, resent, scanned } satisfies Checkpoint);
    }
    return { resent, lastId, endpointGone: false, more: scanned === input.limit };
  };
}
