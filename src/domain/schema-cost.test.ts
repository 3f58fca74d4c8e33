import { describe, expect, it } from 'vitest';
import { compileSchema, SchemaProblem } from './json-schema';
import { MAX_WAYS_PER_SUBSCHEMA, schemaCostProblems } from './schema-cost';

const DEPTH = 64;

/** `anyOf` twice over the previous level, `levels` deep (the black-box pass's schema). */
function doubling(levels: number) {
  const defs: Record<string, unknown> = { d0: { type: 'string' } };
  for (let k = 1; k <= levels; k++) defs[`d${k}`] = { anyOf: [{ $ref: `#/$defs/d${k - 1}` }, { $ref: `#/$defs/d${k - 1}` }] };
  return { type: 'object', properties: { x: { $ref: `#/$defs/d${levels}` } }, $defs: defs };
}

/** A tree whose every node is `anyOf` two references to a node with `children` of nodes: doubles per level of the data. */
const doublingThroughData = {
  $defs: { node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } } },
  anyOf: [{ $ref: '#/$defs/node' }, { $ref: '#/$defs/node' }],
};

const fine: [string, Record<string, unknown>][] = [
  ['no references', { type: 'object', properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'number' } } } }],
  ['a recursive tree', { $defs: { n: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/$defs/n' } } } } }, $ref: '#/$defs/n' }],
  ['a tree through the root', { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } }],
  ['leaf or branch', { $defs: { leaf: { type: 'string' }, branch: { type: 'object', properties: { kids: { items: { $ref: '#' } } } } }, oneOf: [{ $ref: '#/$defs/leaf' }, { $ref: '#/$defs/branch' }] }],
  ['doubling 9 levels (512 ways)', doubling(9)],
  ['a shared definition under 200 oneOf variants', { $defs: { meta: { type: 'object' } }, oneOf: Array.from({ length: 200 }, (_, i) => ({ allOf: [{ $ref: '#/$defs/meta' }, { properties: { kind: { const: `k${i}` } } }] })) }],
  ['2,000 properties', { type: 'object', properties: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`p${i}`, { type: 'string' }])) }],
  ['an unused definition', { $defs: { unused: { type: 'string' } }, type: 'object' }],
  ['a reference by $anchor', { $defs: { s: { $anchor: 'str', type: 'string' } }, properties: { a: { $ref: '#str' } } }],
  ['a reference into a nested $id', { $id: 'https://example.com/root', $defs: { inner: { $id: 'inner', $defs: { x: { type: 'string' } } } }, properties: { a: { $ref: 'inner#/$defs/x' } } }],
];

const refused: [string, Record<string, unknown>, string][] = [
  ['a reference to itself', { $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, properties: { x: { $ref: '#/$defs/a' } } }, 'cycle'],
  ['the root referencing itself', { $ref: '#' }, 'cycle'],
  ['a cycle through anyOf', { $defs: { a: { $ref: '#/$defs/b' }, b: { anyOf: [{ $ref: '#/$defs/a' }] } }, properties: { x: { $ref: '#/$defs/a' } } }, 'cycle'],
  ['a cycle through not', { $defs: { a: { not: { $ref: '#/$defs/a' } } }, $ref: '#/$defs/a' }, 'cycle'],
  ['a cycle through an anchor', { $defs: { a: { $anchor: 'me', if: { $ref: '#me' } } } }, 'cycle'],
  ['a cycle through a dynamic anchor', { $dynamicAnchor: 'meta', then: { $dynamicRef: '#meta' }, if: true }, 'cycle'],
  ['a $dynamicRef to no anchor', { type: 'object', if: {}, then: { $dynamicRef: '#meta' } }, 'resolves to nothing'],
  ['a $ref to no definition', { properties: { a: { $ref: '#/$defs/missing' } } }, 'resolves to nothing'],
  ['doubling 11 levels (2,048 ways)', doubling(11), 'more than'],
  ['doubling 20 levels', doubling(20), 'more than'],
  ['doubling per level of the data', doublingThroughData, 'at depth'],
];

describe('schemaCostProblems', () => {
  it.each(fine)('accepts %s', (_name, schema) => {
    expect(schemaCostProblems(schema, DEPTH)).toEqual([]);
  });

  it.each(refused)('refuses %s', (_name, schema, says) => {
    const problems = schemaCostProblems(schema, DEPTH);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(says);
  });

  it('names where the cycle or the multiplied subschema is', () => {
    expect(schemaCostProblems({ $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } } }, DEPTH)[0]!.path).toBe('/$defs/a');
    expect(schemaCostProblems(doubling(12), DEPTH)[0]!.path).toMatch(/^\/\$defs\/d\d+$/);
  });

  it(`allows ${MAX_WAYS_PER_SUBSCHEMA} ways and not one more`, () => {
    const variants = (n: number) => ({ $defs: { shared: { type: 'object' } }, anyOf: Array.from({ length: n }, () => ({ $ref: '#/$defs/shared' })) });
    expect(schemaCostProblems(variants(MAX_WAYS_PER_SUBSCHEMA), DEPTH)).toEqual([]);
    expect(schemaCostProblems(variants(MAX_WAYS_PER_SUBSCHEMA + 1), DEPTH)).toHaveLength(1);
  });
});

describe('compileSchema with costly schemas', () => {
  it.each(refused)('refuses %s as a SchemaProblem, before any data is checked', (_name, schema) => {
    expect(() => compileSchema(schema)).toThrow(SchemaProblem);
  });

  it('compiles the fine ones, and checks data against them', () => {
    for (const [, schema] of fine) expect(() => compileSchema(schema)).not.toThrow();
    const tree = compileSchema(fine[2]![1]);
    expect(tree({ children: [{ children: [] }] })).toEqual([]);
    expect(tree({ children: [{ children: 1 }] })).toEqual([{ path: '/children/0/children', message: 'must be array' }]);
  });
});
