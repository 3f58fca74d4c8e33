import { describe, expect, it } from 'vitest';
import { MAX_PROBED_NODES, schemaProbes } from './schema-probes';

/** The probes as JSON text, each taken when it is yielded (the document changes between yields). */
const probesOf = (example: unknown): string[] => [...(function* () {
  for (const probe of schemaProbes(example)) yield JSON.stringify(probe);
})()];

const BASE = ['null', 'true', '0', '-1.5', '""', '"x"', '[]', '{}', '[null]', '{"":null}'];

describe('schemaProbes', () => {
  it.each<[string, unknown, number]>([
    ['a scalar example: the failing values alone', 5, BASE.length],
    ['an empty object', {}, BASE.length],
    ['one key', { a: 1 }, BASE.length * 2],
    ['nested: every node below the root', { a: { b: [1, 2] } }, BASE.length * 5],
    ['a wide example: the first nodes only', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])), BASE.length * (1 + MAX_PROBED_NODES)],
  ])('%s', (_, example, count) => {
    expect(probesOf(example)).toHaveLength(count);
  });

  it('replaces one node at a time with each failing value, breadth first', () => {
    const probes = probesOf({ a: { b: 1 }, c: 2 });
    expect(probes.slice(0, BASE.length)).toEqual(BASE);
    expect(probes.slice(BASE.length, BASE.length + 2)).toEqual(['{"a":null,"c":2}', '{"a":true,"c":2}']);
    // After a, c (the same level), then b below a.
    expect(probes[BASE.length * 2]).toBe('{"a":{"b":1},"c":null}');
    expect(probes[BASE.length * 3]).toBe('{"a":{"b":null},"c":2}');
    expect(probes).toContain('{"a":{"b":{"":null}},"c":2}');
  });

  it('reaches array items', () => {
    expect(probesOf({ items: [{ id: 'x' }] })).toContain('{"items":[{"id":{}}]}');
  });

  it("leaves the caller's example as it was", () => {
    const example = { a: { b: [1, { c: 'd' }] } };
    const before = JSON.stringify(example);
    probesOf(example);
    expect(JSON.stringify(example)).toBe(before);
  });

  it('skips a __proto__ key, which assigning would not replace', () => {
    const probes = probesOf(JSON.parse('{"__proto__":{"x":1},"a":1}'));
    expect(probes).toHaveLength(BASE.length * 2);
    expect(probes.slice(BASE.length)).toContain('{"__proto__":{"x":1},"a":null}');
  });
});
