import { describe, expect, it } from 'vitest';
import { RawJson, stringifyWithRaw } from './raw-json';

describe('stringifyWithRaw', () => {
  it.each([
    ['no raw values', { a: 1, b: ['x'] }, '{"a":1,"b":["x"]}'],
    ['a raw value keeps its digits', { id: 'evt_1', data: new RawJson('{"n":12345678901234567890}') }, '{"id":"evt_1","data":{"n":12345678901234567890}}'],
    ['several, nested in arrays', { data: [{ d: new RawJson('1.0') }, { d: new RawJson('[1e3]') }] }, '{"data":[{"d":1.0},{"d":[1e3]}]}'],
    ['a raw text that looks like a placeholder is left alone', { data: new RawJson('"\\u0000x:0"'), n: new RawJson('2') }, '{"data":"\\u0000x:0","n":2}'],
    ['a client string with a NUL is not a placeholder', { s: '\u00000', data: new RawJson('3') }, '{"s":"\\u00000","data":3}'],
  ])('%s', (_name, body, expected) => {
    expect(stringifyWithRaw(body)).toBe(expected);
  });

  it('outside stringifyWithRaw a raw value serializes as its parsed value', () => {
    expect(JSON.stringify({ data: new RawJson('{"a":[1,2]}') })).toBe('{"data":{"a":[1,2]}}');
  });
});
