/**
 * Operational events (PRODUCT.md §5): `endpoint.disabled`, `endpoint.enabled`,
 * `delivery.exhausted`, `delivery.recovered`. They are ordinary events of a reserved application (uid
 * `hookline-operator`) whose one endpoint is the operator's URL, so they are signed with the
 * `standard` scheme and delivered with the same durable retries as any other event. They are
 * started by the dispatcher's sweep. `endpoint.disabled` and `endpoint.enabled` are inserted in
 * the transaction of the change they report; `delivery.exhausted` and `delivery.recovered` after
 * the attempt is recorded, as a follow-up that a failed try repeats (keyed, so once).
 *
 * Each start sets the operator's endpoint to `HOOKLINE_OPERATOR_WEBHOOK_URL` and enables it:
 * a disable (by its health policy, or by hand) lasts until the next start.
 */
import { sql } from 'kysely';
import { IdPrefix, idTime, newId, OPERATOR_APP_UID } from '../domain/ids';
import type { Db } from './db';
import type { SecretBox } from './secret-box';

export { OPERATOR_APP_UID };
const OPERATOR_ENDPOINT_UID = 'operator';

export const OperationalEventType = {
  endpointDisabled: 'endpoint.disabled',
  endpointEnabled: 'endpoint.enabled',
  deliveryExhausted: 'delivery.exhausted',
  deliveryRecovered: 'delivery.recovered',
} as const;
export type OperationalEventType = (typeof OperationalEventType)[keyof typeof OperationalEventType];

type Executor = Pick<Db, 'insertInto'>;

export function createOperatorEvents(db: Db, box: SecretBox) {
  let appId: string | null = null;
  return {
    /** Creates or updates the operator application and endpoint; call once at start. */
    async configure(target: { url: string; secret: string } | undefined): Promise<void> {
      if (!target) return;
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('applications')
          .values({ id: newId(IdPrefix.app), uid: OPERATOR_APP_UID, name: 'Hookline operational events', retry_schedule: JSON.stringify('standard'), payload_format: 'envelope', metadata: '{}' })
          .onConflict((oc) => oc.column('uid').doNothing())
          .execute();
        const app = await tx.selectFrom('applications').select('id').where('uid', '=', OPERATOR_APP_UID).executeTakeFirstOrThrow();
        // Before the uid was reserved, an application key could give its own application this
        // uid; adopting it would send every operational event to that tenant. Such an application
        // has application keys and endpoints of its own (an admin may add endpoints here, but
        // has no reason to hand out application keys too).
        const foreignEndpoint = await tx.selectFrom('endpoints').select('id').where('app_id', '=', app.id).where((eb) => eb('uid', 'is', null).or('uid', '!=', OPERATOR_ENDPOINT_UID)).limit(1).executeTakeFirst();
        const appKey = foreignEndpoint && (await tx.selectFrom('api_keys').select('id').where('app_id', '=', app.id).limit(1).executeTakeFirst());
        if (appKey) {
          throw new Error(`the application with uid "${OPERATOR_APP_UID}" (${app.id}) has application keys and endpoints Hookline did not create, as a tenant's would; if it is a tenant's, give it another uid with the admin key (PATCH /v1/apps/${app.id}); if it is yours, revoke its application keys; then start again`);
        }
        const existing = await tx.selectFrom('endpoints').select('id').where('app_id', '=', app.id).where('uid', '=', OPERATOR_ENDPOINT_UID).executeTakeFirst();
        if (existing) {
          await tx
            .updateTable('endpoints')
            .set((eb) => ({ url: target.url, status: 'active', disabled_reason: null, disabled_at: null, status_version: eb('status_version', '+', 1) }))
            .where('id', '=', existing.id)
            .execute();
          await tx.deleteFrom('endpoint_secrets').where('endpoint_id', '=', existing.id).execute();
          await tx.insertInto('endpoint_secrets').values({ endpoint_id: existing.id, secret_ciphertext: box.seal(target.secret) }).execute();
        } else {
          const id = newId(IdPrefix.endpoint);
          await tx
            .insertInto('endpoints')
            .values({ id, created_at: idTime(id), updated_at: idTime(id), app_id: app.id, uid: OPERATOR_ENDPOINT_UID, url: target.url, description: 'Operator webhook', event_types: '["*"]', signature_scheme: 'standard', signature_header: null, headers_ciphertext: null, header_names: '[]', timeout_ms: 10_000, rate_limit_per_s: null, retry_schedule: null, metadata: '{}' })
            .execute();
          await tx.insertInto('endpoint_secrets').values({ endpoint_id: id, secret_ciphertext: box.seal(target.secret) }).execute();
        }
        appId = app.id;
      });
    },

    /** True for the operator application itself: its own failures raise no further events. */
    isOperatorApp(id: string): boolean {
      return id === appId;
    },

    /** Inserts an operational event in `tx`; the key makes a repeated emit (activity re-run) a no-op. */
    async emit(tx: Executor, type: OperationalEventType, data: Record<string, unknown>, idempotencyKey: string): Promise<void> {
      if (!appId) return;
      const eventId = newId(IdPrefix.event);
      await tx
        .insertInto('events')
        .values({ id: eventId, created_at: idTime(eventId), app_id: appId, type, payload: JSON.stringify(data), previous_payload: null, channels: null, endpoint_ids: null, idempotency_key: idempotencyKey, payload_format: sql<string>`(select payload_format from applications where id = ${appId})` })
        .onConflict((oc) => oc.columns(['app_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .execute();
    },
  };
}
export type OperatorEvents = ReturnType<typeof createOperatorEvents>;
