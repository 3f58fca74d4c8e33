/** The event-type catalog: names, descriptions, JSON Schemas and example payloads, ordered by name. */
import type { Json } from '../domain/model';
import type { Db } from './db';
import { toPage, type Page, type PageRequest } from './page';

export interface EventType {
  name: string;
  description: string;
  example: Json;
  /** The JSON Schema event data of this type must satisfy; null when there is none. */
  schema: Json | null;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type Row = { name: string; description: string; example: unknown; schema: unknown; archived: boolean; created_at: Date; updated_at: Date };
const toEventType = (r: Row): EventType => ({
  name: r.name,
  description: r.description,
  example: r.example as Json,
  schema: (r.schema ?? null) as Json | null,
  archived: r.archived,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createEventTypeStore(db: Db) {
  return {
    /** Throws the database's unique violation when the name exists (the API answers 409). */
    async create(t: { name: string; description: string; example: Json; schema: Json | null }): Promise<EventType> {
      const row = await db
        .insertInto('event_types')
        .values({ name: t.name, description: t.description, example: JSON.stringify(t.example), schema: t.schema === null ? null : JSON.stringify(t.schema) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEventType(row);
    },

    async get(name: string): Promise<EventType | undefined> {
      const row = await db.selectFrom('event_types').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toEventType(row);
    },

    /** By name; archived ones only when asked. The cursor is the last name of the previous page. */
    async list(page: PageRequest & { includeArchived: boolean }): Promise<Page<EventType>> {
      let query = db.selectFrom('event_types').selectAll().orderBy('name', 'asc').limit(page.limit + 1);
      if (page.cursor) query = query.where('name', '>', page.cursor);
      if (!page.includeArchived) query = query.where('archived', '=', false);
      return toPage((await query.execute()).map(toEventType), page.limit, (t) => t.name);
    },

    /**
     * `schema: null` removes the schema. `check` sees the type as it stands, with its row locked
     * until the update commits, and may throw to refuse: two PATCHes cannot each pass a check
     * against what the other is changing.
     */
    async update(name: string, patch: Partial<Pick<EventType, 'description' | 'example' | 'schema' | 'archived'>>, check?: (current: EventType) => void): Promise<EventType | undefined> {
      return db.transaction().execute(async (tx) => {
        const current = await tx.selectFrom('event_types').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
        if (!current) return undefined;
        check?.(toEventType(current));
        const row = await tx
          .updateTable('event_types')
          .set({
            ...(patch.description !== undefined && { description: patch.description }),
            ...(patch.example !== undefined && { example: JSON.stringify(patch.example) }),
            ...(patch.schema !== undefined && { schema: patch.schema === null ? null : JSON.stringify(patch.schema) }),
            ...(patch.archived !== undefined && { archived: patch.archived }),
            updated_at: new Date(),
          })
          .where('name', '=', name)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toEventType(row);
      });
    },
  };
}
