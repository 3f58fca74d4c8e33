import type { Selectable } from 'kysely';
import { newId, IdPrefix, namesId } from '../domain/ids';
import type { Application } from '../domain/model';
import type { PayloadFormat } from '../domain/envelope';
import { DEFAULT_DISABLE_POLICY, type DisablePolicy } from '../domain/health-policy';
import type { RetrySchedule } from '../domain/schedule';
import type { Db } from './db';
import type { ApplicationsTable } from './schema';
import { toPage, type Page, type PageRequest } from './page';

export interface NewApplication {
  name: string;
  uid: string | null;
  retrySchedule: RetrySchedule;
  payloadFormat: PayloadFormat;
  disablePolicy: DisablePolicy | null;
  metadata: Record<string, string>;
}

export type ApplicationPatch = Partial<NewApplication>;

function toApplication(row: Selectable<ApplicationsTable>): Application {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    retrySchedule: row.retry_schedule as RetrySchedule,
    payloadFormat: row.payload_format as PayloadFormat,
    disablePolicy: (row.disable_policy as DisablePolicy | null) ?? DEFAULT_DISABLE_POLICY,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createAppStore(db: Db) {
  return {
    async create(input: NewApplication): Promise<Application> {
      const row = await db
        .insertInto('applications')
        .values({
          id: newId(IdPrefix.app),
          uid: input.uid,
          name: input.name,
          retry_schedule: JSON.stringify(input.retrySchedule),
          payload_format: input.payloadFormat,
          disable_policy: input.disablePolicy === null ? null : JSON.stringify(input.disablePolicy),
          metadata: JSON.stringify(input.metadata),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toApplication(row);
    },

    /** Finds an application by id (`app_…`) or by the producer's uid. */
    async get(idOrUid: string): Promise<Application | undefined> {
      const column = namesId(IdPrefix.app, idOrUid) ? 'id' : 'uid';
      const row = await db.selectFrom('applications').selectAll().where(column, '=', idOrUid).executeTakeFirst();
      return row && toApplication(row);
    },

    async list(page: PageRequest): Promise<Page<Application>> {
      let query = db.selectFrom('applications').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) query = query.where('id', '<', page.cursor);
      return toPage((await query.execute()).map(toApplication), page.limit);
    },

    async update(id: string, patch: ApplicationPatch): Promise<Application | undefined> {
      const row = await db
        .updateTable('applications')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.uid !== undefined && { uid: patch.uid }),
          ...(patch.retrySchedule !== undefined && { retry_schedule: JSON.stringify(patch.retrySchedule) }),
          ...(patch.payloadFormat !== undefined && { payload_format: patch.payloadFormat }),
          ...(patch.disablePolicy !== undefined && { disable_policy: patch.disablePolicy === null ? null : JSON.stringify(patch.disablePolicy) }),
          ...(patch.metadata !== undefined && { metadata: JSON.stringify(patch.metadata) }),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toApplication(row);
    },

    /**
     * Deletes the application and everything it owns; returns the ids its endpoints had (their
     * workflows still running are woken by the caller), or undefined if there was no such one.
     */
    async delete(id: string): Promise<string[] | undefined> {
      return db.transaction().execute(async (tx) => {
        // The application's row is locked first, as the cascade and every insert under it (a
        // delivery checks its application's key before its endpoint's) take them: endpoints
        // first would deadlock with a fan-out window inserting deliveries.
        const app = await tx.selectFrom('applications').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
        if (!app) return undefined;
        const endpoints = await tx.deleteFrom('endpoints').where('app_id', '=', id).returning('id').execute();
        await tx.deleteFrom('applications').where('id', '=', id).execute();
        return endpoints.map((e) => e.id);
      });
    },
  };
}
export type AppStore = ReturnType<typeof createAppStore>;
