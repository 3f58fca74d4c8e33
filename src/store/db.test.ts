/**
 * The PostgreSQL pool when the server misbehaves, on the suite's real PostgreSQL (skipped
 * without one): an idle connection the server ends, and a server that stops answering.
 */
import { createServer, type Server } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../test/support/hookline';
import { storeUnavailable } from '../api/errors';
import { openDatabase } from './db';

describe.skipIf(!inject('postgresUrl'))('openDatabase on PostgreSQL', () => {
  it('survives the server ending an idle pooled connection, and the next query opens another', async () => {
    const url = await createDatabase();
    const idleErrors: Error[] = [];
    const db = await openDatabase({ databaseUrl: url, onIdleError: (err) => idleErrors.push(err) });
    try {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
      // As a PostgreSQL restart or pg_terminate_backend does: the pooled connection is idle now.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      for (let i = 0; i < 50 && idleErrors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(idleErrors).toHaveLength(1);
      expect(storeUnavailable(idleErrors[0])).toBe(true);
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.destroy();
    }
  });

  it('fails a connection that gets no answer within the query timeout, as store unavailable', async () => {
    // A "server" that accepts connections and never answers, as a frozen PostgreSQL.
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const db = await openDatabase({ databaseUrl: `postgres://x@127.0.0.1:${(silent.address() as { port: number }).port}/x`, queryTimeoutMs: 300 });
    try {
      const failure = await sql`select 1`.execute(db).then(() => undefined, (err: unknown) => err);
      expect(storeUnavailable(failure)).toBe(true);
    } finally {
      await db.destroy();
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
