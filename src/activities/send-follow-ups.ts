/**
 * What follows a recorded attempt besides its result: health work and operational events. Each
 * is idempotent (keyed by delivery and attempt number), because a try whose follow-up failed is
 * asked again (ActivityFailureType.followUpFailed) and runs them again.
 */
import { FailureReason } from '../domain/attempt-outcome';
import { DisableCause } from '../metrics';
import { OperationalEventType } from '../store/operator';
import type { SendContext } from '../store/send-context';
import type { SendDeps, SendInput } from './send-webhook';

/** The data of a delivery's operational event (`delivery.exhausted`, `delivery.recovered`). */
const operationalData = (ctx: SendContext, input: SendInput) => ({
  app_id: ctx.appId,
  delivery_id: ctx.deliveryId,
  event_id: ctx.event.id,
  event_type: ctx.event.type,
  endpoint_id: ctx.endpoint.id,
  attempts: input.attemptNumber,
});

/**
 * `delivery.recovered` (PRODUCT.md §5): a resend or a recovery delivered what had exhausted its
 * retries, the counterpart of the `delivery.exhausted` the operator was sent then.
 */
export async function afterManualSuccess(deps: SendDeps, ctx: SendContext, input: SendInput): Promise<void> {
  if (deps.store.operator.isOperatorApp(ctx.appId) || !(await deps.store.deliveries.wasExhausted(ctx.deliveryId, input.attemptNumber))) return;
  await deps.store.operator.emit(deps.store.db, OperationalEventType.deliveryRecovered, operationalData(ctx, input), `recovered:${ctx.deliveryId}:${input.attemptNumber}`);
}

/**
 * Failures, and only failures, cost health work: 410 disables at once, the rest is watched. The
 * health workflow hears of both: after a disable it stops the deliveries still waiting to retry.
 */
export async function afterFailure(deps: SendDeps, ctx: SendContext, input: SendInput, disable: boolean, reason: FailureReason | null): Promise<void> {
  if (disable && (await deps.store.health.disable(ctx.endpoint.id, 'the endpoint answered 410 Gone'))) deps.metrics.endpointsDisabled.inc({ cause: DisableCause.gone });
  // A test send's failures are left out of the health statistics (store/attempts.ts,
  // countedInStats): no health work for them, but for the disable its 410 made.
  if (ctx.delivery.test && !disable) return;
  await deps.reportFailure(ctx.endpoint.id);
  if (reason === FailureReason.exhausted && !deps.store.operator.isOperatorApp(ctx.appId)) {
    await deps.store.operator.emit(deps.store.db, OperationalEventType.deliveryExhausted, operationalData(ctx, input), `exhausted:${ctx.deliveryId}:${input.attemptNumber}`);
  }
}
