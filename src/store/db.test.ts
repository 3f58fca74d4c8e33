/**
 * The PostgreSQL pool when the server misbehaves, on the suite's real PostgreSQL (skipped
 * without one): an idle connection the server ends, and a server that stops answering.
 */
import { createServer, type Server } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../test/support/hookline';
import { startRelay } from '../../test/support/relay';
import { storeUnavailable } from '../api/errors';
import { openDatabase } from './db';

describe.skipIf(!inject('postgresUrl'))('openDatabase on PostgreSQL', () => {
  it('survives the server ending an idle pooled connection, and the next query opens another', async () => {
    const url = await createDatabase();
    const idleErrors: Error[] = [];
    const db = await openDatabase({ databaseUrl: url, onConnectionError: (err) => idleErrors.push(err) });
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

  it('survives the server ending a connection during a query: the query fails as store unavailable', async () => {
    const url = await createDatabase();
    const errors: Error[] = [];
    const db = await openDatabase({ databaseUrl: url, onConnectionError: (err) => errors.push(err) });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const running = sql`select pg_sleep(3) as slept_long`.execute(db).then(() => undefined, (err: unknown) => err);
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like '%slept_long%' and pid <> pg_backend_pid()");
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await admin.query('select pg_terminate_backend($1)', [pid]);
      expect(storeUnavailable(await running)).toBe(true);
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await db.destroy();
    }
  });

  it('survives a connection cut under a running query (no answer, no error from the server)', async () => {
    const url = new URL(await createDatabase());
    const relay = await startRelay(new URL(url));
    url.host = `127.0.0.1:${relay.port}`;
    const errors: Error[] = [];
    const db = await openDatabase({ databaseUrl: url.toString(), onConnectionError: (err) => errors.push(err) });
    try {
      const running = sql`select pg_sleep(2)`.execute(db).then(() => undefined, (err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 300));
      relay.cut();
      expect(storeUnavailable(await running)).toBe(true);
      relay.restore();
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.destroy();
      await relay.close();
    }
  });

  it('has the server cancel a statement past the query timeout, in or out of a transaction, and the pool goes on', async () => {
    const db = await openDatabase({ databaseUrl: await createDatabase(), queryTimeoutMs: 300 });
    try {
      const alone = await sql`select pg_sleep(2)`.execute(db).then(() => undefined, (err: unknown) => err);
      expect(alone).toMatchObject({ code: '57014' });
      expect(storeUnavailable(alone)).toBe(true);
      const inTransaction = await db
        .transaction()
        .execute((trx) => sql`select pg_sleep(2)`.execute(trx))
        .then(() => undefined, (err: unknown) => err);
      expect(inTransaction).toMatchObject({ code: '57014' });
      // Rolled back: the connection is idle again, outside any transaction.
      expect((await sql<{ open: boolean }>`select now() = statement_timestamp() as open`.execute(db)).rows).toEqual([{ open: true }]);
    } finally {
      await db.destroy();
    }
  });

  it('fails a connection that gets no answer within the connect timeout, as store unavailable', async () => {
    // A "server" that accepts connections and never answers, as a frozen PostgreSQL.
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const db = await openDatabase({ databaseUrl: `postgres://x@127.0.0.1:${(silent.address() as { port: number }).port}/x`, queryTimeoutMs: 300, connectTimeoutMs: 300 });
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
