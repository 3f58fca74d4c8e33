import { describe, expect, it } from 'vitest';
import { holdsUnpairedSurrogate } from './text-check';

describe('holdsUnpairedSurrogate', () => {
  it.each([
    ['plain text', { name: 'Acme' }, false],
    ['a pair (an emoji)', { name: '😀', list: ['\ud83d\ude00'] }, false],
    ['a lone high surrogate', { name: '\ud800x' }, true],
    ['a lone low surrogate', { name: 'x\udc00' }, true],
    ['a high surrogate at the end', { name: 'x\udbff' }, true],
    ['two highs in a row', { name: '\ud800\ud800\udc00' }, true],
    ['in a nested array', { a: [{ b: ['ok', '\udfff'] }] }, true],
    ['in a key', { metadata: { '\ud800': 'v' } }, true],
    ['not text', { n: 1, b: true, z: null }, false],
    ['no body', undefined, false],
  ])('%s', (_name, body, expected) => {
    expect(holdsUnpairedSurrogate(body)).toBe(expected);
  });

  it('walks a body nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(holdsUnpairedSurrogate(deep)).toBe(true);
  });
});
