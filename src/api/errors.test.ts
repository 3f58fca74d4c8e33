import { describe, expect, it } from 'vitest';
import { schemaIssueDetails, zodDetails } from './errors';
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
