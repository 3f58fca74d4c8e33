/** The store: one module per aggregate over one database handle. */
import { sql } from 'kysely';
import { createAppStore } from './apps';
import { createDeliveryStore } from './deliveries';
import { createEndpointStore } from './endpoints';
import { createEventStore } from './events';
import { createEventTypeStore } from './event-types';
import { createIdempotentRequestStore } from './idempotent-requests';
import { createKeyStore } from './keys';
import { createHealthStore } from './health';
import { createOperatorEvents } from './operator';
import { createSendContextLoader } from './send-context';
import { migrate, openDatabase, type Db, type DbOptions } from './db';
import type { SecretBox } from './secret-box';

export function createStore(db: Db, box: SecretBox) {
  const operator = createOperatorEvents(db, box);
  return {
    operator,
    health: createHealthStore(db, operator),
    db,
    apps: createAppStore(db),
    endpoints: createEndpointStore(db, box),
    events: createEventStore(db),
    eventTypes: createEventTypeStore(db),
    keys: createKeyStore(db),
    idempotentRequests: createIdempotentRequestStore(db, box),
    deliveries: createDeliveryStore(db),
    loadSendContext: createSendContextLoader(db, box),
    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
export type Store = ReturnType<typeof createStore>;

/** Opens the database, applies migrations and returns the store. */
export async function openStore(options: DbOptions, box: SecretBox): Promise<Store> {
  if (options.databaseUrl) {
    // Migrations on a pool of their own, without the query timeout.
    const migrations = await openDatabase({ ...options, poolSize: 1, queryTimeoutMs: 0 });
    try {
      await migrate(migrations);
    } finally {
      await migrations.destroy();
    }
    return createStore(await openDatabase(options), box);
  }
  const db = await openDatabase(options);
  await migrate(db);
  return createStore(db, box);
}

