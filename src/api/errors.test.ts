import { describe, expect, it } from 'vitest';
import { schemaIssueDetails, storeUnavailable, zodDetails } from './errors';
import { z } from './zod';

describe('zodDetails', () => {
  it('writes request paths as event-data paths are written, and names each unknown key', () => {
    const schema = z.object({ metadata: z.record(z.string(), z.string()), list: z.array(z.number()) }).strict();
    const result = schema.safeParse({ metadata: { 'a.b': 1 }, list: [1, 'x'], extra: true });
    expect(result.success).toBe(false);
    expect(zodDetails(result.error!).map((d) => d.path).sort()).toEqual(['extra', 'list.1', 'metadata["a.b"]']);
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
