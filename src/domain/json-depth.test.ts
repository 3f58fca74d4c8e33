import { describe, expect, it } from 'vitest';
import { jsonDocumentProblem } from './json-depth';

/** `depth` nested arrays: [[[…]]]. */
const nested = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
};
const TOO_DEEP = (max: number) => `must not nest deeper than ${max} levels`;
const OVERFLOW = "must not hold a number past a double's range (such as 1e999)";

describe('jsonDocumentProblem', () => {
  it.each([
    ['a scalar', 1, 0, undefined],
    ['null', null, 0, undefined],
    ['an empty object at max 1', {}, 1, undefined],
    ['an object in an object at max 1', { a: {} }, 1, TOO_DEEP(1)],
    ['an object in an object at max 2', { a: {} }, 2, undefined],
    ['scalars do not count as a level', { a: { b: 1, c: 'x' } }, 2, undefined],
    ['the deepest branch counts', { a: 1, b: [1, [2, [3]]] }, 3, TOO_DEEP(3)],
    ['64 levels at max 64', nested(64), 64, undefined],
    ['65 levels at max 64', nested(65), 64, TOO_DEEP(64)],
    ['1e999 as JSON.parse reads it', JSON.parse('{"a":[1,1e999]}'), 64, OVERFLOW],
    ['-1e999', JSON.parse('{"a":-1e999}'), 64, OVERFLOW],
    ['the largest double is fine', JSON.parse('{"a":1.7976931348623157e308}'), 64, undefined],
    ['an underflow to 0 is fine', JSON.parse('{"a":1e-999}'), 64, undefined],
    ['"1e999" as a string is fine', { a: '1e999' }, 64, undefined],
  ])('%s', (_name, value, max, expected) => {
    expect(jsonDocumentProblem(value, max)).toBe(expected);
  });

  it('checks 100,000 levels without overflowing the stack', () => {
    expect(jsonDocumentProblem(nested(100_000), 64)).toBe(TOO_DEEP(64));
  });
});
