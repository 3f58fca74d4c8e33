import { describe, expect, it } from 'vitest';
import { schemaIssueDetails } from './errors';

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
