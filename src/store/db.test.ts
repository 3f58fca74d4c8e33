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
import { openDatabase, storeUnavailable } from './db';

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

describe('storeUnavailable', () => {
  it.each([
    ['a connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true],
    ['the server shutting down (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), true],
    ['a connection exception (08006)', Object.assign(new Error('connection failure'), { code: '08006' }), true],
    ['no answer to a query', new Error('Query read timeout'), true],
    ['no connection in time', new Error('timeout exceeded when trying to connect'), true],
    ['a connection cut', new Error('Connection terminated unexpectedly'), true],
    ['a unique violation', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['a syntax error (42601)', Object.assign(new Error('syntax error'), { code: '42601' }), false],
    ['a statement past statement_timeout (57014)', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), true],
    ['a stopped container\'s name', Object.assign(new Error('getaddrinfo ENOTFOUND postgres'), { code: 'ENOTFOUND' }), true],
    ['too many connections (53300)', Object.assign(new Error('sorry, too many clients already'), { code: '53300' }), true],
    ['a protocol violation (08P01) is a bug', Object.assign(new Error('bind message supplies 1 parameters'), { code: '08P01' }), false],
    ['a plain bug', new TypeError('x is undefined'), false],
    ['not an error', null, false],
  ])('%s: %s', (_name, err, unavailable) => {
    expect(storeUnavailable(err)).toBe(unavailable);
  });
});
