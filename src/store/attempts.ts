/**
 * Attempts in the store: each attempt's record and the delivery state it leaves, read back for a
 * delivery, an endpoint's statistics and the operational events. Part of the delivery store
 * (`createDeliveryStore` spreads it), kept apart because its rules are the attempt's own: a
 * record is written once per (delivery, number), and a stale one changes nothing.
 */
import { sql, type Selectable } from 'kysely';
import { FailureReason } from '../domain/attempt-outcome';
import { attemptId } from '../domain/ids';
import { AttemptTrigger, DeliveryStatus, type Attempt, type AttemptErrorCode } from '../domain/model';
import type { Db } from './db';
import type { AttemptsTable } from './schema';

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

/**
 * The attempts an endpoint's statistics count, its health (store/health.ts) and its `/stats`: all
 * but test sends'. A test send is a probe someone asked for (often of an endpoint not ready yet):
 * its result is its own, and counts neither toward a disable policy, nor against a failure
 * streak, nor in the success rate. (A 410 still disables at once, as any 410 does: PRODUCT.md §5.)
 * A resend of a test send's delivery is a probe too, though its trigger is `manual`: only
 * manual attempts pay for the look at their delivery (a test delivery has no scheduled ones).
 */
export const countedInStats = sql<boolean>`(trigger = ${AttemptTrigger.scheduled} or (trigger = ${AttemptTrigger.manual} and not exists (select 1 from deliveries td where td.id = attempts.delivery_id and td.test)))`;

export function createAttemptRecords(db: Db) {
  return {
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
        // A 410 ends its delivery too, by disabling the endpoint: that is not an exhausted schedule.
        .where((eb) => eb.or([eb('response_status', 'is', null), eb('response_status', '!=', 410)]))
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The endpoint's attempts since `since` (test sends' left out: `countedInStats`): counts, and
     * latency percentiles (whole ms) over the attempts it answered: a timeout or a refused
     * connection says nothing of its response time.
     */
    async attemptStats(endpointId: string, since: Date): Promise<{ attempts: number; succeeded: number; p50Ms: number | null; p95Ms: number | null }> {
      const { rows } = await sql<{ attempts: number; succeeded: number; p50: number | null; p95: number | null }>`
        select count(*)::int as attempts,
               (count(*) filter (where succeeded))::int as succeeded,
               round(percentile_cont(0.5) within group (order by duration_ms) filter (where response_status is not null)) as p50,
               round(percentile_cont(0.95) within group (order by duration_ms) filter (where response_status is not null)) as p95
        from attempts where endpoint_id = ${endpointId} and started_at >= ${since} and ${countedInStats}`.execute(db);
      const r = rows[0]!;
      return { attempts: r.attempts, succeeded: r.succeeded, p50Ms: r.p50 === null ? null : Number(r.p50), p95Ms: r.p95 === null ? null : Number(r.p95) };
    },

    /** The delivery's attempts, newest first; the newest `limit` of them when given. */
    async attempts(deliveryId: string, limit?: number): Promise<Attempt[]> {
      let query = db.selectFrom('attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt_number', 'desc');
      if (limit !== undefined) query = query.limit(limit);
      return (await query.execute()).map(toAttempt);
    },

    /** The record of one attempt, by its number. */
    async attempt(deliveryId: string, attemptNumber: number): Promise<Attempt | undefined> {
      const row = await db.selectFrom('attempts').selectAll().where('delivery_id', '=', deliveryId).where('attempt_number', '=', attemptNumber).executeTakeFirst();
      return row && toAttempt(row);
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
        .set(() => {
          // A disable that landed while this attempt was sending ended the delivery: an attempt
          // that would leave it pending must not revive it (its retries stop there). Only a
          // disable since the attempt read the endpoint: one before it (the endpoint enabled again
          // since, and a resend) is history, and the resend's retries go on.
          const keep = sql<boolean>`(deliveries.status = ${DeliveryStatus.failed} and deliveries.failure_reason = ${FailureReason.endpointDisabled} and ${outcome.status}::text = ${DeliveryStatus.pending}
            and (select status_version from endpoints where id = deliveries.endpoint_id) <> ${attempt.endpointStatusVersion})`;
          return {
            status: sql<string>`case when ${keep} then deliveries.status else ${outcome.status}::text end`,
            // The guard below lets through only a number at least the recorded one.
            attempt_count: attempt.attemptNumber,
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
  };
}
