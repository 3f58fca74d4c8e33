/**
 * Endpoint health in the store: attempt statistics for the disable policies, disable and enable
 * (with their operational events, in one transaction), and the shared send-slot of a
 * rate-limited endpoint.
 */
import { sql } from 'kysely';
import { FailureReason } from '../domain/attempt-outcome';
import { DEFAULT_DISABLE_POLICY, type AttemptStats, type DisablePolicy, type RecentAttempts } from '../domain/health-policy';
import { countedInStats } from './attempts';
import type { Db } from './db';
import { OperationalEventType, type OperatorEvents } from './operator';

export interface HealthSubject {
  endpointId: string;
  appId: string;
  status: string;
  policy: DisablePolicy;
  resetAt: Date | null;
}

export function createHealthStore(db: Db, operator: OperatorEvents) {
  return {
    async subject(endpointId: string): Promise<HealthSubject | undefined> {
      const row = await db
        .selectFrom('endpoints as ep')
        .innerJoin('applications as a', 'a.id', 'ep.app_id')
        .select(['ep.id', 'ep.app_id', 'ep.status', 'ep.health_reset_at', 'a.disable_policy'])
        .where('ep.id', '=', endpointId)
        .executeTakeFirst();
      if (!row) return undefined;
      return { endpointId: row.id, appId: row.app_id, status: row.status, policy: (row.disable_policy as DisablePolicy | null) ?? DEFAULT_DISABLE_POLICY, resetAt: row.health_reset_at };
    },

    /**
     * The newest attempts since `since` (`RecentAttempts`): the newest one; with `lastSuccess`,
     * the newest success; and the streak of failed attempts, which is not cut at `since`: the
     * newest `streak.cap` attempts since `streak.since` (the health reset, or ever), counted up to
     * the first success. Each reads from the newest end of the endpoint's index, so the cost
     * follows the recent failures, not the endpoint's traffic.
     */
    async recent(endpointId: string, since: Date, opts: { lastSuccess: boolean; streak: { since: Date | null; cap: number } }): Promise<RecentAttempts> {
      const { rows } = await sql<{ latest_at: Date | string | null; latest_ok: boolean | null; last_success: Date | string | null; consecutive: number }>`
        with latest as (
          select started_at, succeeded from attempts where endpoint_id = ${endpointId} and started_at >= ${since} and ${countedInStats}
          order by started_at desc limit 1
        ), streak as (
          select array(
            select succeeded from attempts
            where endpoint_id = ${endpointId} and started_at >= coalesce(${opts.streak.since}::timestamptz, '-infinity'::timestamptz) and ${countedInStats}
            order by started_at desc limit ${opts.streak.cap}
          ) as outcomes
        )
        select (select started_at from latest) as latest_at,
               (select succeeded from latest) as latest_ok,
               (select started_at from attempts where ${opts.lastSuccess} and endpoint_id = ${endpointId} and started_at >= ${since} and succeeded and ${countedInStats}
                order by started_at desc limit 1) as last_success,
               (select coalesce(array_position(outcomes, true) - 1, cardinality(outcomes)) from streak)::int as consecutive`.execute(db);
      const r = rows[0]!;
      return {
        latest: r.latest_at === null ? null : { at: new Date(r.latest_at), succeeded: r.latest_ok === true },
        lastSuccessAt: r.last_success === null ? null : new Date(r.last_success),
        consecutiveFailures: r.consecutive,
      };
    },

    /**
     * Counts and times of the endpoint's attempts since `since`: one range scan of the window,
     * which failure_rate needs only once the newest attempts cannot decide (`verdictFromRecent`).
     */
    async windowStats(endpointId: string, since: Date): Promise<Omit<AttemptStats, 'consecutiveFailures'>> {
      const { rows } = await sql<{ attempts: number; failures: number; first_failure: Date | null; last_failure: Date | null; last_success: Date | null }>`
        select count(*)::int as attempts,
               (count(*) filter (where not succeeded))::int as failures,
               min(started_at) filter (where not succeeded) as first_failure,
               max(started_at) filter (where not succeeded) as last_failure,
               max(started_at) filter (where succeeded) as last_success
        from attempts where endpoint_id = ${endpointId} and started_at >= ${since} and ${countedInStats}`.execute(db);
      const r = rows[0]!;
      const date = (v: Date | string | null) => (v === null ? null : new Date(v));
      return { attempts: r.attempts, failures: r.failures, firstFailureAt: date(r.first_failure), lastFailureAt: date(r.last_failure), lastSuccessAt: date(r.last_success) };
    },

    /**
     * Disables an active endpoint: status and reason, its pending deliveries end `failed` with
     * `endpoint_disabled`, and `endpoint.disabled` is emitted. Returns false if it was not active.
     */
    async disable(endpointId: string, reason: string, now = new Date()): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const ep = await tx
          .updateTable('endpoints')
          .set((eb) => ({ status: 'disabled', disabled_reason: reason, disabled_at: now, updated_at: now, status_version: eb('status_version', '+', 1) }))
          .where('id', '=', endpointId)
          .where('status', '=', 'active')
          .returning(['id', 'app_id', 'url'])
          .executeTakeFirst();
        if (!ep) return false;
        await tx
          .updateTable('deliveries')
          .set({ status: 'failed', failure_reason: FailureReason.endpointDisabled, next_attempt_at: null, updated_at: now })
          .where('endpoint_id', '=', endpointId)
          .where('status', '=', 'pending')
          .execute();
        if (!operator.isOperatorApp(ep.app_id)) {
          await operator.emit(tx, OperationalEventType.endpointDisabled, { app_id: ep.app_id, endpoint_id: ep.id, url: ep.url, reason, disabled_at: now.toISOString() }, `disabled:${ep.id}:${now.getTime()}`);
        }
        return true;
      });
    },

    /**
     * Deliveries that disabling the endpoint ended, after `after` by id: their workflows may still
     * be waiting on a retry timer, and are told to stop. Empty once the endpoint is enabled again.
     */
    async endedByDisable(endpointId: string, after: string | null, limit: number): Promise<{ id: string; eventId: string; statusVersion: number }[]> {
      let query = db
        .selectFrom('deliveries as d')
        .innerJoin('endpoints as ep', 'ep.id', 'd.endpoint_id')
        .select(['d.id', 'd.event_id', 'ep.status_version'])
        .where('d.endpoint_id', '=', endpointId)
        .where('ep.status', '=', 'disabled')
        .where('d.status', '=', 'failed')
        .where('d.failure_reason', '=', FailureReason.endpointDisabled)
        .where((eb) => eb('d.updated_at', '>=', eb.ref('ep.disabled_at')))
        .orderBy('d.id', 'asc')
        .limit(limit);
      if (after !== null) query = query.where('d.id', '>', after);
      return (await query.execute()).map((r) => ({ id: r.id, eventId: r.event_id, statusVersion: r.status_version }));
    },

    /**
     * Re-enables a disabled endpoint and resets its health record; emits `endpoint.enabled`. An
     * endpoint that is already active is left alone (false): enabling it again must not hide a
     * failing streak from the disable policy.
     */
    async enable(endpointId: string, now = new Date()): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const ep = await tx
          .updateTable('endpoints')
          .set((eb) => ({ status: 'active', disabled_reason: null, disabled_at: null, health_reset_at: now, updated_at: now, status_version: eb('status_version', '+', 1) }))
          .where('id', '=', endpointId)
          .where('status', '=', 'disabled')
          .returning(['id', 'app_id', 'url'])
          .executeTakeFirst();
        if (!ep) return false;
        if (!operator.isOperatorApp(ep.app_id)) {
          await operator.emit(tx, OperationalEventType.endpointEnabled, { app_id: ep.app_id, endpoint_id: ep.id, url: ep.url, enabled_at: now.toISOString() }, `enabled:${ep.id}:${now.getTime()}`);
        }
        return true;
      });
    },

    /**
     * Reserves the endpoint's next send slot, `1 / perS` seconds after the previous one, and
     * returns how long until it, by the database's clock. One atomic upsert, so any number of
     * workers share the limit.
     */
    async reserveSlot(endpointId: string, perS: number): Promise<number> {
      const spacing = sql`make_interval(secs => ${1 / perS})`;
      const { rows } = await sql<{ wait_ms: number | string }>`
        insert into endpoint_throttle (endpoint_id, next_slot_at) values (${endpointId}, now() + ${spacing})
        on conflict (endpoint_id) do update set next_slot_at = greatest(endpoint_throttle.next_slot_at, now()) + ${spacing}
        returning extract(epoch from (next_slot_at - ${spacing} - now())) * 1000 as wait_ms`.execute(db);
      return Math.max(0, Math.round(Number(rows[0]!.wait_ms)));
    },

    /**
     * The gate at send time: claims the send if the endpoint's last actual send is at least
     * `1 / perS` seconds ago, else returns how long to wait. Reserved slots order the senders;
     * this keeps a timer that fired late from bunching sends closer than the limit allows.
     */
    async claimSend(endpointId: string, perS: number): Promise<number> {
      const spacing = sql`make_interval(secs => ${1 / perS})`;
      const { rows } = await sql<{ claimed: boolean; wait_ms: number | string }>`
        with prev as (select last_sent_at from endpoint_throttle where endpoint_id = ${endpointId} for update),
        upd as (
          update endpoint_throttle set last_sent_at = now()
          where endpoint_id = ${endpointId} and (last_sent_at is null or last_sent_at <= now() - ${spacing})
          returning 1
        )
        select exists(select 1 from upd) as claimed,
               coalesce(extract(epoch from ((select last_sent_at from prev) + ${spacing} - now())) * 1000, 0) as wait_ms`.execute(db);
      const row = rows[0]!;
      return row.claimed ? 0 : Math.max(1, Math.round(Number(row.wait_ms)));
    },
  };
}
export type HealthStore = ReturnType<typeof createHealthStore>;
