/**
 * Opens the store: PostgreSQL when a URL is given, otherwise the embedded PGlite in a data
 * directory (or in memory). Both run the same migrations and the same queries.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';
import { pgliteDialect } from './pglite-dialect';

export type Db = Kysely<Database>;

export interface DbOptions {
  /** PostgreSQL connection string; unset means embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; unset means an in-memory database. */
  dataDir?: string | undefined;
  poolSize?: number;
  /**
   * PostgreSQL only: the server cancels a statement that runs this long (`statement_timeout`, so
   * its transaction rolls back cleanly), and the client gives up on a server that sends nothing
   * for 2 s more. 0: no limit (migrations, which may rebuild an index on a large table).
   */
  queryTimeoutMs?: number;
  /** PostgreSQL only: waiting this long for a new connection fails it. */
  connectTimeoutMs?: number;
  /** PostgreSQL only: a pooled connection failed (the server restarted or ended it, idle or during a query); the pool replaces it. */
  onConnectionError?: (err: Error) => void;
}

/** The default of `DbOptions.queryTimeoutMs` (`HOOKLINE_DB_QUERY_TIMEOUT_MS`). */
export const DB_QUERY_TIMEOUT_MS = 10_000;

export async function openDatabase(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const timeoutMs = options.queryTimeoutMs ?? DB_QUERY_TIMEOUT_MS;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DB_QUERY_TIMEOUT_MS,
      keepAlive: true,
      ...(timeoutMs > 0 && { statement_timeout: timeoutMs, query_timeout: timeoutMs + 2_000 }),
    });
    // Without a listener, a connection's error (PostgreSQL restarted, a proxy cut it) is an
    // unhandled 'error' event, which ends the process: the pool listens to idle clients only, so
    // every client gets a listener of its own for its whole life.
    // (The pool re-emits an idle client's error too, and throws if nothing listens: that copy is
    // already reported by the client's own listener.)
    pool.on('connect', (client) => client.on('error', (err) => options.onConnectionError?.(err)));
    pool.on('error', () => undefined);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool: releasingBroken(pool) }) });
  }
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // Loaded only when used: PGlite's module and WASM cost about 60 MB of RSS in every process
  // that imports it, and API and worker processes on PostgreSQL never need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load of the same (CommonJS) build a static import would give
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const client = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  return new Kysely<Database>({ dialect: pgliteDialect(client) });
}

/**
 * The pool Kysely sees: a client handed back while a query is still under way on it (the client
 * gave up on a server that sent nothing) is destroyed, not reused by the next request.
 */
function releasingBroken(pool: pg.Pool) {
  return {
    async connect() {
      const client = await pool.connect();
      const release = client.release.bind(client);
      return Object.assign(client, { release: () => release((client as { readyForQuery?: boolean }).readyForQuery === false ? new Error('connection not idle') : undefined) });
    },
    end: () => pool.end(),
  };
}

/**
 * SQLSTATE: connection exceptions (08000–08006; not 08P01, a protocol violation, which is a bug),
 * too many connections (53300), a statement cancelled by statement_timeout (57014), the server
 * shutting down or starting (57P01–57P03); and the socket and DNS failures of a store that is gone
 * (a stopped container's name no longer resolves).
 */
const STORE_DOWN_CODES = /^(0800[0-6]|53300|57014|57P0[1-3]|ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;
/** What the pg driver says, without a code, when a connection or a query gets no answer. */
const STORE_DOWN_MESSAGES = /Query read timeout|timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable/;

/**
 * The store is down or not answering (PostgreSQL restarting, unreachable, past the query
 * timeout): the request may succeed later, so a 503, not a 500.
 */
export function storeUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (typeof e?.code === 'string' && STORE_DOWN_CODES.test(e.code)) || (typeof e?.message === 'string' && STORE_DOWN_MESSAGES.test(e.message));
}

const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** Reads `migrations/NNNN_name.sql`; statements end with a semicolon at the end of a line. */
class SqlFileMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
      const statements = readFileSync(join(MIGRATIONS_DIR, file), 'utf8')
        .split(/;\s*$/m)
        .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
        .filter(Boolean);
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db) => {
          for (const statement of statements) await sql.raw(statement).execute(db);
        },
      };
    }
    return migrations;
  }
}

/** Applies every pending migration; Kysely's migrator locks, so concurrent starts are safe. */
export async function migrate(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: new SqlFileMigrations() }).migrateToLatest();
  if (error) {
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database could not be reached, or its migration table read.
    throw new Error(failed ? `migration ${failed} failed: ${message}` : `the database could not be migrated: ${message}`);
  }
}
