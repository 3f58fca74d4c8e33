import { sql, type Selectable } from 'kysely';
import { FailureReason } from '../domain/attempt-outcome';
import { idTime, newId, IdPrefix } from '../domain/ids';
import { DeliveryStatus, type Delivery } from '../domain/model';
import { createAttemptRecords, type DeliveryOutcome } from './attempts';
import type { Db } from './db';
import type { DeliveriesTable } from './schema';
import { createdIn, toPage, type CreatedRange, type Page, type PageRequest } from './page';

function toDelivery(row: Selectable<DeliveriesTable>): Delivery {
  return {
    id: row.id,
    appId: row.app_id,
    eventId: row.event_id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    status: row.status as DeliveryStatus,
    attemptCount: row.attempt_count,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    failureReason: row.failure_reason,
    test: row.test,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface DeliveryFilter extends PageRequest, CreatedRange {
  status?: DeliveryStatus | undefined;
  eventId?: string | undefined;
  endpointId?: string | undefined;
  eventType?: string | undefined;
}

/**
 * No attempt has been recorded since `seen` was read. Every record writes `last_attempt_at`, from
 * the attempt's own start time, so the pair also tells a repeat of the same number apart.
 */
function noAttemptSince(seen: Pick<Delivery, 'attemptCount' | 'lastAttemptAt'>) {
  return sql<boolean>`attempt_count = ${seen.attemptCount} and last_attempt_at is not distinct from ${seen.lastAttemptAt}::timestamptz`;
}

export function createDeliveryStore(db: Db) {
  return {
    ...createAttemptRecords(db),

    /**
     * Creates the deliveries of one event (idempotent): `pending` for active endpoints, `skipped`
     * for disabled ones, so recovery can send them later. Returns them by endpoint. `test`: a test
     * send's delivery.
     */
    async createForEvent(
      event: { id: string; appId: string; type: string },
      endpoints: { id: string; status: string }[],
      opts: { test?: boolean } = {},
    ): Promise<{ id: string; endpointId: string; status: DeliveryStatus }[]> {
      if (endpoints.length === 0) return [];
      const inserted = await db
        .insertInto('deliveries')
        .values(
          endpoints.map((ep) => {
            const id = newId(IdPrefix.delivery);
            return {
              id,
              created_at: idTime(id),
              updated_at: idTime(id),
              app_id: event.appId,
              event_id: event.id,
              endpoint_id: ep.id,
              event_type: event.type,
              status: ep.status === 'disabled' ? 'skipped' : 'pending',
              ...(ep.status === 'disabled' && { failure_reason: FailureReason.endpointDisabled }),
              ...(opts.test && { test: true, awaiting_start: true }),
            };
          }),
        )
        .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing())
        .returning(['id', 'endpoint_id', 'status'])
        .execute();
      // RETURNING keeps the order of `endpoints`. A re-run window finds some rows already there
      // and reads them all back (the rare path).
      const rows =
        inserted.length === endpoints.length
          ? inserted
          : await db
              .selectFrom('deliveries')
              .select(['id', 'endpoint_id', 'status'])
              .where('event_id', '=', event.id)
              .where('endpoint_id', 'in', endpoints.map((e) => e.id))
              .orderBy('endpoint_id', 'asc')
              .execute();
      return rows.map((r) => ({ id: r.id, endpointId: r.endpoint_id, status: r.status as DeliveryStatus }));
    },

    async get(appId: string, id: string): Promise<Delivery | undefined> {
      const row = await db.selectFrom('deliveries').selectAll().where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
      return row && toDelivery(row);
    },

    async byId(id: string): Promise<Delivery | undefined> {
      const row = await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDelivery(row);
    },

    async list(appId: string, filter: DeliveryFilter): Promise<Page<Delivery>> {
      let query = db.selectFrom('deliveries').selectAll().where('app_id', '=', appId).orderBy('id', 'desc').limit(filter.limit + 1);
      if (filter.cursor) query = query.where('id', '<', filter.cursor);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.eventId) query = query.where('event_id', '=', filter.eventId);
      if (filter.endpointId) query = query.where('endpoint_id', '=', filter.endpointId);
      if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
      query = createdIn(query, IdPrefix.delivery, filter);
      return toPage((await query.execute()).map(toDelivery), filter.limit);
    },

    /**
     * A recovery's page: the endpoint's failed and skipped deliveries created in [since, until), by
     * id. Test sends are not among them, not even one that never started (its caller was told to
     * try again). `asOf`: only those unchanged since the recovery began; one resent since (by a
     * resend, or another recovery) is left out, whatever came of that.
     */
    async recoverable(q: { endpointId: string; since: Date; until: Date; after: string | null; limit: number; asOf?: Date | undefined }): Promise<Delivery[]> {
      let query = db
        .selectFrom('deliveries')
        .selectAll()
        .where('endpoint_id', '=', q.endpointId)
        .where('status', 'in', [DeliveryStatus.failed, DeliveryStatus.skipped])
        // A test send is a probe, not an event the endpoint missed: a resend repeats it, a recovery
        // does not (nor one that never started, the only deliveries closed `not_started`).
        .where('test', '=', false)
        .where('created_at', '>=', q.since)
        .where('created_at', '<', q.until)
        .orderBy('id', 'asc')
        .limit(q.limit);
      if (q.after !== null) query = query.where('id', '>', q.after);
      if (q.asOf) query = query.where('updated_at', '<', q.asOf);
      return (await query.execute()).map(toDelivery);
    },

    /**
     * Takes a recoverable delivery for one recovery: true if it still reads as `seen` (failed or
     * skipped, not changed since), and it is then marked changed now, so a recovery running
     * alongside that read it too does not resend it as well. `release` gives it back when the
     * resend could not be made.
     */
    async claimForRecovery(seen: Pick<Delivery, 'id' | 'updatedAt'>, now: Date): Promise<boolean> {
      const r = await db
        .updateTable('deliveries')
        .set({ updated_at: now })
        .where('id', '=', seen.id)
        .where('updated_at', '=', seen.updatedAt)
        .where('status', 'in', [DeliveryStatus.failed, DeliveryStatus.skipped])
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async releaseRecoveryClaim(seen: Pick<Delivery, 'id' | 'updatedAt'>, claimedAt: Date): Promise<void> {
      await db.updateTable('deliveries').set({ updated_at: seen.updatedAt }).where('id', '=', seen.id).where('updated_at', '=', claimedAt).execute();
    },

    /**
     * Test sends created before `before` whose workflow start was never seen to reach Temporal
     * (the dispatcher's sweep starts them). Oldest first.
     */
    async unstartedTests(before: Date, limit: number): Promise<Delivery[]> {
      const rows = await db
        .selectFrom('deliveries')
        .selectAll()
        .where('awaiting_start', '=', true)
        .where('created_at', '<', before)
        .orderBy('created_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map(toDelivery);
    },

    /** The delivery's workflow has started (or was already running): no sweep needs to start it. */
    async confirmStart(id: string): Promise<void> {
      await db.updateTable('deliveries').set({ awaiting_start: false }).where('id', '=', id).where('awaiting_start', '=', true).execute();
    },

    /**
     * Ends a test send's delivery whose workflow did not start (`not_started`); false if it was
     * not ended because its start has been confirmed meanwhile (a sweep started it) or an attempt
     * recorded (a start that reached Temporal after all).
     */
    async failUnstarted(id: string): Promise<boolean> {
      const result = await db
        .updateTable('deliveries')
        .set({ status: DeliveryStatus.failed, next_attempt_at: null, failure_reason: FailureReason.notStarted, awaiting_start: false, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', DeliveryStatus.pending)
        .where('attempt_count', '=', 0)
        .where('awaiting_start', '=', true)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * A resend reached Temporal: the delivery is `pending` again, unless an attempt has been
     * recorded since `seen` was read, whose outcome then stands. That attempt may carry the next
     * number (a revive) or the same one again (a resend during the attempt): every record writes
     * `last_attempt_at`, from the attempt's own start time, so the pair tells both apart.
     */
    async markResent(id: string, seen: Pick<Delivery, 'attemptCount' | 'lastAttemptAt'>): Promise<void> {
      await db
        .updateTable('deliveries')
        .set({ status: DeliveryStatus.pending, next_attempt_at: null, failure_reason: null, updated_at: new Date() })
        .where('id', '=', id)
        .where(noAttemptSince(seen))
        .execute();
    },

    /** The delivery of an event to an endpoint (its workflow id names the pair). */
    async forPair(eventId: string, endpointId: string): Promise<Delivery | undefined> {
      const row = await db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).where('endpoint_id', '=', endpointId).executeTakeFirst();
      return row && toDelivery(row);
    },

    /**
     * Closes a delivery whose workflow Temporal ended without finishing it (`workflow_ended`), if
     * it still reads pending with no attempt recorded since `seen`; false if it was left as it is.
     */
    async closeEnded(id: string, seen: Pick<Delivery, 'attemptCount' | 'lastAttemptAt'>): Promise<boolean> {
      const result = await db
        .updateTable('deliveries')
        .set({ status: DeliveryStatus.failed, next_attempt_at: null, failure_reason: FailureReason.workflowEnded, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', DeliveryStatus.pending)
        .where('awaiting_start', '=', false)
        .where(noAttemptSince(seen))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Undoes `closeEnded` when a resend started a newer run meanwhile: the delivery is pending
     * again, unless that run has recorded an attempt since `seen`, whose outcome then stands.
     */
    async reopenEnded(id: string, seen: Pick<Delivery, 'attemptCount' | 'lastAttemptAt'>): Promise<void> {
      await db
        .updateTable('deliveries')
        .set({ status: DeliveryStatus.pending, failure_reason: null, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', DeliveryStatus.failed)
        .where('failure_reason', '=', FailureReason.workflowEnded)
        .where(noAttemptSince(seen))
        .execute();
    },

    /**
     * Ends a pending delivery whose endpoint an attempt found disabled. Only a pending one: a
     * delivery whose success was recorded (by a try whose result the workflow lost) stays so.
     */
    async endPending(id: string, outcome: DeliveryOutcome): Promise<void> {
      await db
        .updateTable('deliveries')
        .set({ status: outcome.status, next_attempt_at: outcome.nextAttemptAt, failure_reason: outcome.failureReason, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', DeliveryStatus.pending)
        .execute();
    },
  };
}
export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
