import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-depth';

/** `depth` nested arrays: [[[…]]]. */
const nested = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
};

describe('jsonDepthExceeds', () => {
  it.each([
    ['a scalar', 1, 0, false],
    ['null', null, 0, false],
    ['an empty object at max 1', {}, 1, false],
    ['an object in an object at max 1', { a: {} }, 1, true],
    ['an object in an object at max 2', { a: {} }, 2, false],
    ['scalars do not count as a level', { a: { b: 1, c: 'x' } }, 2, false],
    ['the deepest branch counts', { a: 1, b: [1, [2, [3]]] }, 3, true],
    ['64 levels at max 64', nested(64), 64, false],
    ['65 levels at max 64', nested(65), 64, true],
  ])('%s', (_name, value, max, expected) => {
    expect(jsonDepthExceeds(value, max)).toBe(expected);
  });

  it('checks 100,000 levels without overflowing the stack', () => {
    expect(jsonDepthExceeds(nested(100_000), 64)).toBe(true);
  });
});
