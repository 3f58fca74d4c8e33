import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SchemaCheckerUnavailable } from './schema-checker';
import { ApiError, errorHandler, schemaIssueDetails, zodDetails } from './errors';
import { z } from './zod';

describe('zodDetails', () => {
  it('writes request paths as event-data paths are written, and names each unknown key', () => {
    const schema = z.object({ metadata: z.record(z.string(), z.string()), list: z.array(z.number()) }).strict();
    const result = schema.safeParse({ metadata: { 'a.b': 1 }, list: [1, 'x'], extra: true });
    expect(result.success).toBe(false);
    expect(zodDetails(result.error!).map((d) => d.path).sort()).toEqual(['extra', 'list.1', 'metadata["a.b"]']);
  });

  it("says why the one branch of a union whose type the value has refused it, not zod's 'Invalid input'", () => {
    const schedule = z.union([z.string(), z.array(z.number())], { error: 'must be a name or a list' }).refine((v) => v !== 'bad', 'unknown name "bad"');
    const schema = z.object({ schedule: z.union([schedule, z.null()]).optional() });
    const details = (value: unknown) => zodDetails(schema.safeParse({ schedule: value }).error!);
    expect(details('bad')).toEqual([{ path: 'schedule', message: 'unknown name "bad"' }]);
    expect(details([1, 'x'])).toEqual([{ path: 'schedule.1', message: 'Invalid input: expected number, received string' }]);
    // No branch takes a boolean: the inner union's own message.
    expect(details(true)).toEqual([{ path: 'schedule', message: 'must be a name or a list' }]);
  });

  it('says only the wrong type of a value of the wrong type, not the length checks zod also runs on it', () => {
    const schema = z.object({ name: z.string().min(1).max(3), other: z.string().min(2) });
    const result = schema.safeParse({ name: [], other: 'x' });
    expect(zodDetails(result.error!)).toEqual([
      { path: 'name', message: 'Invalid input: expected string, received array' },
      { path: 'other', message: expect.stringContaining('Too small') },
    ]);
  });
});

describe('schemaIssueDetails', () => {
  it.each([
    ['the whole document', '', 'data'],
    ['a nested property', '/amount', 'data.amount'],
    ['an array item', '/items/0/sku', 'data.items.0.sku'],
    ['a key with a dot, in brackets', '/x.y', 'data["x.y"]'],
    ['escaped pointer characters', '/a~1b/c~0d', 'data["a/b"]["c~d"]'],
    ['a key with a space or a quote', '/my key/"q"', 'data["my key"]["\\"q\\""]'],
    ['an empty key', '/', 'data[""]'],
  ])('%s', (_name, pointer, path) => {
    expect(schemaIssueDetails('data', [{ path: pointer, message: 'm' }])).toEqual([{ path, message: 'm' }]);
  });
});

describe('errorHandler', () => {
  /** The status, Retry-After and code the handler answers `err` with, through a real Express app. */
  async function answerTo(err: Error): Promise<[number, string | null, string]> {
    const app = express();
    app.get('/', () => {
      throw err;
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      return [res.status, res.headers.get('retry-after'), ((await res.json()) as { error: { code: string } }).error.code];
    } finally {
      server.close();
    }
  }

  it.each<[string, Error, [number, string | null, string]]>([
    ['no schema-checking thread: 503, retry after 1 s', new SchemaCheckerUnavailable('no thread'), [503, '1', 'schema_checker_unavailable']],
    ['an Idempotency-Key still in use: 409 with its own Retry-After', ApiError.idempotencyKeyInUse(), [409, '1', 'idempotency_key_in_use']],
    ['another conflict: no Retry-After', new ApiError(409, 'conflict_error', 'already_exists', 'x'), [409, null, 'already_exists']],
  ])('%s', async (_, err, expected) => {
    expect(await answerTo(err)).toEqual(expected);
  });
});
