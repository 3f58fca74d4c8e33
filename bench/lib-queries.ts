/**
 * Counts store statements (begin/commit included) by wrapping the two drivers' `query` methods
 * in this process: PGlite's and node-postgres' Client. Method lookup happens at call time, so the
 * store's existing connections are counted too. Statements per delivery say how many store round
 * trips the hot path makes, without touching the store's code.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

type Query = (...args: unknown[]) => unknown;

let statements = 0;
let installed = false;

function wrap(proto: { query: Query }): void {
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
}

/** Installs the counters once; returns a reader of the running total. */
export function storeStatements(): () => number {
  if (!installed) {
    installed = true;
    wrap(PGlite.prototype as unknown as { query: Query });
    wrap(pg.Client.prototype);
  }
  return () => statements;
}
