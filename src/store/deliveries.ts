import { sql, type Selectable } from 'kysely';
import { FailureReason } from '../domain/attempt-outcome';
import { attemptId, idTime, newId, IdPrefix } from '../domain/ids';
import { DeliveryStatus, type Attempt, type AttemptErrorCode, type AttemptTrigger, type Delivery } from '../domain/model';
import type { Db } from './db';
import type { AttemptsTable, DeliveriesTable } from './schema';
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

function toAttempt(row: Selectable<AttemptsTable>): Attempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attemptNumber: row.attempt_number,
    trigger: row.trigger as AttemptTrigger,
    url: row.url,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    responseStatus: row.response_status,
    responseHeaders: row.response_headers,
    responseBody: row.response_body,
    responseBodyTruncated: row.response_body_truncated,
    errorCode: row.error_code as AttemptErrorCode | null,
    errorMessage: row.error_message,
    nextAttemptAt: row.next_attempt_at,
  };
}

export type AttemptRecord = Omit<Attempt, 'id'> & {
  endpointId: string;
  succeeded: boolean;
  /** The endpoint's `status_version` when the attempt read it: a disable since then ended the delivery. */
  endpointStatusVersion: number;
};

export interface DeliveryOutcome {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  failureReason: string | null;
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

    /** Whether an attempt before `attemptNumber` was the last of a spent schedule (failed, no next attempt). */
    async wasExhausted(deliveryId: string, attemptNumber: number): Promise<boolean> {
      const row = await db
        .selectFrom('attempts')
        .select('id')
        .where('delivery_id', '=', deliveryId)
        .where('attempt_number', '<', attemptNumber)
        .where('trigger', '=', 'scheduled')
        .where('succeeded', '=', false)
        .where('next_attempt_at', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * A recovery's page: the endpoint's failed and skipped deliveries created in [since, until), by
     * id. A test send that never started is not one: its caller was told to try again.
     */
    async recoverable(q: { endpointId: string; since: Date; until: Date; after: string | null; limit: number }): Promise<Delivery[]> {
      let query = db
        .selectFrom('deliveries')
        .selectAll()
        .where('endpoint_id', '=', q.endpointId)
        .where('status', 'in', [DeliveryStatus.failed, DeliveryStatus.skipped])
        .where((eb) => eb.or([eb('failure_reason', 'is', null), eb('failure_reason', '!=', FailureReason.notStarted)]))
        .where('created_at', '>=', q.since)
        .where('created_at', '<', q.until)
        .orderBy('id', 'asc')
        .limit(q.limit);
      if (q.after !== null) query = query.where('id', '>', q.after);
      return (await query.execute()).map(toDelivery);
    },

    /**
     * The endpoint's attempts since `since`: counts, and latency percentiles (whole ms) over the
     * attempts it answered: a timeout or a refused connection says nothing of its response time.
     */
    async attemptStats(endpointId: string, since: Date): Promise<{ attempts: number; succeeded: number; p50Ms: number | null; p95Ms: number | null }> {
      const { rows } = await sql<{ attempts: number; succeeded: number; p50: number | null; p95: number | null }>`
        select count(*)::int as attempts,
               (count(*) filter (where succeeded))::int as succeeded,
               round(percentile_cont(0.5) within group (order by duration_ms) filter (where response_status is not null)) as p50,
               round(percentile_cont(0.95) within group (order by duration_ms) filter (where response_status is not null)) as p95
        from attempts where endpoint_id = ${endpointId} and started_at >= ${since}`.execute(db);
      const r = rows[0]!;
      return { attempts: r.attempts, succeeded: r.succeeded, p50Ms: r.p50 === null ? null : Number(r.p50), p95Ms: r.p95 === null ? null : Number(r.p95) };
    },

    async attempts(deliveryId: string): Promise<Attempt[]> {
      const rows = await db.selectFrom('attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt_number', 'desc').execute();
      return rows.map(toAttempt);
    },

    /**
     * Records one attempt and the delivery's new state in one statement. The attempt id is
     * derived from (delivery, number) and upserted, so a re-run activity cannot double-count.
     *
     * A record older than what is stored changes nothing: an attempt that outlived its local
     * activity's timeout can finish after the workflow's next try of it (or its next attempt) has
     * recorded, and must not put back a state the workflow has moved past (a succeeded delivery
     * would read pending for good). "Older" is a lower attempt number, or for the same number an
     * earlier start time.
     */
    async recordAttempt(attempt: AttemptRecord, outcome: DeliveryOutcome): Promise<void> {
      const id = attemptId(attempt.deliveryId, attempt.attemptNumber);
      const values = {
        trigger: attempt.trigger,
        url: attempt.url,
        started_at: attempt.startedAt,
        duration_ms: attempt.durationMs,
        response_status: attempt.responseStatus,
        response_headers: JSON.stringify(attempt.responseHeaders),
        response_body: attempt.responseBody,
        response_body_truncated: attempt.responseBodyTruncated,
        error_code: attempt.errorCode,
        error_message: attempt.errorMessage,
        next_attempt_at: attempt.nextAttemptAt,
        endpoint_id: attempt.endpointId,
        succeeded: attempt.succeeded,
      };
      // One statement (a data-modifying CTE), so one round trip, and atomic like a transaction.
      await db
        .with('attempt', (q) =>
          q
            .insertInto('attempts')
            .values({ id, delivery_id: attempt.deliveryId, attempt_number: attempt.attemptNumber, ...values })
            .onConflict((oc) => oc.column('id').doUpdateSet(values).where('attempts.started_at', '<=', attempt.startedAt))
            .returning('id'),
        )
        .updateTable('deliveries')
        .set((eb) => {
          // A disable that landed while this attempt was sending ended the delivery: an attempt
          // that would leave it pending must not revive it (its retries stop there). Only a
          // disable since the attempt read the endpoint: one before it (the endpoint enabled again
          // since, and a resend) is history, and the resend's retries go on.
          const keep = sql<boolean>`(deliveries.status = ${DeliveryStatus.failed} and deliveries.failure_reason = ${FailureReason.endpointDisabled} and ${outcome.status}::text = ${DeliveryStatus.pending}
            and (select status_version from endpoints where id = deliveries.endpoint_id) <> ${attempt.endpointStatusVersion})`;
          return {
            status: sql<string>`case when ${keep} then deliveries.status else ${outcome.status}::text end`,
            attempt_count: eb.fn('greatest', [eb.ref('attempt_count'), eb.val(attempt.attemptNumber)]),
            last_attempt_at: attempt.startedAt,
            next_attempt_at: sql<Date | null>`case when ${keep} then null else ${outcome.nextAttemptAt}::timestamptz end`,
            failure_reason: sql<string | null>`case when ${keep} then deliveries.failure_reason else ${outcome.failureReason}::text end`,
            updated_at: new Date(),
          };
        })
        .where('id', '=', attempt.deliveryId)
        // A later attempt (a higher number) has recorded, or a later try of this one (by start time).
        // Numbers first: they do not depend on two workers' clocks agreeing.
        .where((eb) =>
          eb.or([
            eb('attempt_count', '<', attempt.attemptNumber),
            eb.and([eb('attempt_count', '=', attempt.attemptNumber), eb.or([eb('last_attempt_at', 'is', null), eb('last_attempt_at', '<=', attempt.startedAt)])]),
          ]),
        )
        .execute();
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
