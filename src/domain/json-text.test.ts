import { describe, expect, it } from 'vitest';
import { compactJson, firstRepeatedKey, numberLiterals, topLevelMembers } from './json-text';

describe('topLevelMembers', () => {
  it.each([
    ['a plain object', '{"type":"a","data":{"x":1}}', { data: '{"x":1}' }],
    ['whitespace between tokens is dropped', '{ "data" : { "x" : [ 1 , 2 ] } ,\n "type": "a" }', { data: '{"x":[1,2]}' }],
    ['an integer past 2^53 keeps its digits', '{"data":{"id":12345678901234567890}}', { data: '{"id":12345678901234567890}' }],
    ['number literals stay as written', '{"data":[1.0,1e3,-0,0.10]}', { data: '[1.0,1e3,-0,0.10]' }],
    ['strings keep their escapes and spaces', '{"data":{"s":"a \\" } ] , b\\\\","u":"\\u00e9 é"}}', { data: '{"s":"a \\" } ] , b\\\\","u":"\\u00e9 é"}' }],
    ['key order and duplicate keys inside data are kept', '{"data":{"b":1,"a":2,"b":3}}', { data: '{"b":1,"a":2,"b":3}' }],
    ['a duplicate top-level key: the last counts, as in JSON.parse', '{"data":1,"data":{"x":2}}', { data: '{"x":2}' }],
    ['scalars and null', '{"data":"text","previous_data":null}', { data: '"text"', previous_data: 'null' }],
    ['literals before a closing brace', '{"data":true}', { data: 'true' }],
    ['an escaped key', '{"d\\u0061ta":[]}', { data: '[]' }],
    ['a key that only contains the name', '{"metadata":{"data":1},"data":2}', { data: '2' }],
    ['nested brackets inside strings', '{"previous_data":{"s":"{[}]"},"data":{}}', { data: '{}', previous_data: '{"s":"{[}]"}' }],
    ['a leading byte-order mark', '\ufeff{"data":1}', { data: '1' }],
    ['not an object', '[{"data":1}]', {}],
    ['an absent key', '{"type":"a"}', {}],
  ])('%s', (_name, text, expected) => {
    expect(Object.fromEntries(topLevelMembers(text, ['data', 'previous_data']))).toEqual(expected);
  });

  it('agrees with JSON.parse on random documents written with random whitespace', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const space = () => pick(['', ' ', '\n  ', '\t', '\r\n']);
    const value = (depth: number): string => {
      const kind = depth > 3 ? pick(['n', 's', 'l']) : pick(['n', 's', 'l', 'o', 'a']);
      if (kind === 'n') return pick(['0', '-1.5', '1e-7', '9007199254740993', '3.0']);
      if (kind === 's') return JSON.stringify(pick(['', 'a b', '"}]', '\\', 'é\n', '\u2028']));
      if (kind === 'l') return pick(['true', 'false', 'null']);
      const n = Math.floor(random() * 4);
      const items = Array.from({ length: n }, (_, k) => (kind === 'o' ? `${space()}${JSON.stringify(`k${k}`)}${space()}:${space()}${value(depth + 1)}${space()}` : `${space()}${value(depth + 1)}${space()}`));
      return kind === 'o' ? `{${items.join(',')}${space()}}` : `[${items.join(',')}${space()}]`;
    };
    for (let run = 0; run < 500; run++) {
      const data = value(0);
      const prev = value(0);
      const text = `${space()}{${space()}"type"${space()}:${space()}"t",${space()}"data"${space()}:${space()}${data}${space()},"previous_data":${prev}${space()}}${space()}`;
      const members = topLevelMembers(text, ['data', 'previous_data']);
      const parsed = JSON.parse(text) as { data: unknown; previous_data: unknown };
      expect(JSON.parse(members.get('data')!)).toEqual(parsed.data);
      expect(JSON.parse(members.get('previous_data')!)).toEqual(parsed.previous_data);
      expect(members.get('data')).toBe(compactJson(data));
    }
  });
});

describe('compactJson', () => {
  it.each([
    ['{ "a" : [ 1 , 2 ] }', '{"a":[1,2]}'],
    ['"  spaced  "', '"  spaced  "'],
    ['{"a":"x\\" y"}', '{"a":"x\\" y"}'],
    ['[\n\t1\r\n]', '[1]'],
  ])('%s', (text, expected) => {
    expect(compactJson(text)).toBe(expected);
  });
});

describe('firstRepeatedKey', () => {
  it.each([
    ['no repeats', '{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}', null],
    ['a top-level repeat', '{"a":1,"a":2}', ['a']],
    ['a nested repeat', '{"a":{"b":1,"c":2,"b":3}}', ['a', 'b']],
    ['inside an array item', '{"list":[{"x":1},{"y":1,"y":2}]}', ['list', 1, 'y']],
    ['keys that differ only by escapes are the same key', '{"a":1,"\\u0061":2}', ['a']],
    ['strings that look like keys are not keys', '{"a":"\\"a\\":1,","b":["a","a"]}', null],
    ['a key with a dot', '{"x.y":{"k":1,"k":2}}', ['x.y', 'k']],
    ['not an object', '[1,2,3]', null],
  ])('%s', (_name, text, expected) => {
    expect(firstRepeatedKey(text)).toEqual(expected);
  });

  it('agrees with JSON.parse on documents without repeats', () => {
    const doc = JSON.stringify({ a: [{ b: 1, c: [{ d: '"}]' }] }, { b: 2 }], e: { f: { g: null } } });
    expect(firstRepeatedKey(doc)).toBeNull();
  });
});

describe('numberLiterals', () => {
  it.each<[string, string[]]>([
    ['{"a":1,"b":[2.5e3,-0.1,1E+2]}', ['1', '2.5e3', '-0.1', '1E+2']],
    ['{"12":"34","x\\"5":6}', ['6']],
    ['{"n":12345678901234567890}', ['12345678901234567890']],
    ['[true,null,"7"]', []],
  ])('%s', (text, expected) => {
    expect(numberLiterals(text)).toEqual(expected);
  });
});
