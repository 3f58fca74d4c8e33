import { describe, expect, it } from 'vitest';
import { compileSchema, MAX_ISSUES, SchemaProblem } from './json-schema';

const order = {
  type: 'object',
  required: ['id', 'amount'],
  properties: { id: { type: 'string', pattern: '^ord_' }, amount: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
  additionalProperties: false,
};

describe('compileSchema', () => {
  it.each([
    ['a matching order', order, { id: 'ord_1', amount: 5 }, []],
    ['a missing property', order, { id: 'ord_1' }, [{ path: '', message: "must have required property 'amount'" }]],
    ['a wrong type, deep', order, { id: 'ord_1', amount: 'five' }, [{ path: '/amount', message: 'must be integer' }]],
    ['an extra property, named', order, { id: 'ord_1', amount: 1, note: 'x' }, [{ path: '', message: 'must NOT have additional properties ("note")' }]],
    ['a format', order, { id: 'ord_1', amount: 1, email: 'not-an-email' }, [{ path: '/email', message: 'must match format "email"' }]],
    ['every issue at once', order, { id: 'x', amount: -1 }, [{ path: '/id', message: 'must match pattern "^ord_"' }, { path: '/amount', message: 'must be >= 0' }]],
    ['draft 07 by $schema', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: { type: 'number' } }, [1, 'a'], [{ path: '/1', message: 'must be number' }]],
    ['draft 2019-09 by $schema', { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', dependentRequired: { a: ['b'] } }, { a: 1 }, [{ path: '', message: 'must have property b when property a is present' }]],
    ['2020-12 prefixItems', { type: 'array', prefixItems: [{ type: 'string' }] }, [1], [{ path: '/0', message: 'must be string' }]],
    ['an internal $ref', { $defs: { id: { type: 'string' } }, properties: { id: { $ref: '#/$defs/id' } } }, { id: 3 }, [{ path: '/id', message: 'must be string' }]],
    ['unknown keywords are ignored', { type: 'object', example: { a: 1 }, 'x-internal': true }, {}, []],
    ['true accepts anything', true, { a: 1 }, []],
    ['false accepts nothing', false, {}, [{ path: '', message: 'no data satisfies this schema (false)' }]],
    ['draft 07 spelled with https', { $schema: 'https://json-schema.org/draft-07/schema#', type: 'string' }, 1, [{ path: '', message: 'must be string' }]],
    ['2020-12 spelled with http', { $schema: 'http://json-schema.org/draft/2020-12/schema', type: 'string' }, 1, [{ path: '', message: 'must be string' }]],
  ])('%s', (_name, schema, data, issues) => {
    expect(compileSchema(schema)(data, { allIssues: true })).toEqual(issues);
  });

  it.each([
    ['objects, unbounded', { type: 'array', items: { type: 'object' }, uniqueItems: true }, ['/']],
    ['untyped items, deep', { properties: { tags: { type: 'array', uniqueItems: true } } }, ['/properties/tags']],
    ['a tuple of scalars is not typed items', { $schema: 'http://json-schema.org/draft-07/schema#', items: [{ type: 'string' }], uniqueItems: true }, ['/']],
    ['in $defs, maxItems above the cap', { $defs: { l: { uniqueItems: true, maxItems: 101 } } }, ['/$defs/l']],
    ['scalar items', { items: { type: 'string' }, uniqueItems: true }, []],
    ['nullable scalar items', { items: { type: ['integer', 'null'] }, uniqueItems: true }, []],
    ['objects with maxItems at the cap', { items: { type: 'object' }, uniqueItems: true, maxItems: 100 }, []],
    ['uniqueItems false', { uniqueItems: false }, []],
    ['a property named uniqueItems', { properties: { uniqueItems: true } }, []],
    ['uniqueItems inside an example', { examples: [{ uniqueItems: true }], const: { uniqueItems: true } }, []],
    ['under a draft-07 dependency named like a data keyword', { $schema: 'http://json-schema.org/draft-07/schema#', dependencies: { const: { properties: { list: { type: 'array', uniqueItems: true } } } } }, ['/dependencies/const/properties/list']],
  ])('uniqueItems over arrays that could be long and hold objects is refused: %s', (_name, schema, paths) => {
    if (paths.length === 0) return expect(() => compileSchema(schema)).not.toThrow();
    expect(() => compileSchema(schema)).toThrow(SchemaProblem);
    try {
      compileSchema(schema);
    } catch (err) {
      expect((err as SchemaProblem).issues.map((i) => i.path)).toEqual(paths);
    }
  });

  it('reports only the first issue unless asked for all (collecting them all costs time on a large payload)', () => {
    expect(compileSchema(order)({ id: 'x', amount: -1 })).toEqual([{ path: '/id', message: 'must match pattern "^ord_"' }]);
  });

  it.each([
    ['not an object', 'string', /object or a boolean/],
    ['an array', [], /object or a boolean/],
    ['an unknown draft', { $schema: 'http://json-schema.org/draft-04/schema#' }, /Unsupported \$schema/],
    ['a keyword of the wrong type', { type: 'objec' }, /meta-schema/],
    ['a reference nothing defines', { $ref: '#/$defs/missing' }, /cannot be compiled/],
    ['a remote reference (never fetched)', { $ref: 'https://example.com/schema.json' }, /cannot be compiled/],
    ['a pattern with lookahead (RE2 has none)', { type: 'string', pattern: '^(?=a)' }, /cannot be compiled/],
    ['a pattern with a backreference', { type: 'string', pattern: '(a)\\1' }, /cannot be compiled/],
  ])('refuses %s', (_name, schema, message) => {
    expect(() => compileSchema(schema)).toThrow(SchemaProblem);
    expect(() => compileSchema(schema)).toThrow(message);
  });

  it('runs pattern and patternProperties on RE2: a pattern that backtracks exponentially in JavaScript answers at once', () => {
    // In JavaScript's engine this input takes minutes against ^(a+)+$; RE2 is linear.
    const check = compileSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } }, patternProperties: { '^x-[a-z]+$': { type: 'number' } } });
    expect(check({ s: `${'a'.repeat(5_000)}!` })).toEqual([{ path: '/s', message: 'must match pattern "^(a+)+$"' }]);
    expect(check({ s: 'aaa' })).toEqual([]);
    // A search, as RegExp.prototype.test: unanchored patterns match anywhere.
    expect(compileSchema({ type: 'string', pattern: 'b+' })('abbc')).toEqual([]);
    expect(check({ s: 'a', 'x-count': 'one' })).toEqual([{ path: '/x-count', message: 'must be number' }]);
  });

  it('compiles {"$ref": "#"} recursion without an $id', () => {
    const tree = compileSchema({ type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } });
    expect(tree({ children: [{ children: [] }] })).toEqual([]);
    expect(tree({ children: [{ children: 1 }] })).toEqual([{ path: '/children/0/children', message: 'must be array' }]);
  });

  it('a schema that overflows the stack while checking throws SchemaProblem, not a RangeError', () => {
    const looping = compileSchema({ $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, properties: { x: { $ref: '#/$defs/a' } } });
    expect(looping({ y: 1 })).toEqual([]);
    expect(() => looping({ x: 1 })).toThrow(SchemaProblem);
    expect(() => looping({ x: 1 })).toThrow('The schema cannot be applied: Maximum call stack size exceeded');
  });

  it('says where a schema breaks its meta-schema', () => {
    const problem = (() => {
      try {
        compileSchema({ properties: { a: { minimum: 'one' } } });
      } catch (err) {
        return err as SchemaProblem;
      }
    })();
    expect(problem?.issues).toContainEqual({ path: '/properties/a/minimum', message: 'must be number' });
  });

  it('two schemas with the same $id each keep their own rules', () => {
    const schema = { $id: 'https://hookline.example/order', type: 'object', required: ['id'] };
    const first = compileSchema(schema);
    const second = compileSchema({ ...schema, required: ['amount'] });
    expect(first({ amount: 1 })).toHaveLength(1);
    expect(second({ amount: 1 })).toEqual([]);
  });

  it.each([
    'https://json-schema.org/draft/2020-12/schema',
    'http://json-schema.org/draft-07/schema#',
  ])('a schema whose $id is a meta-schema (%s) changes nothing for the schemas after it', (id) => {
    try {
      compileSchema({ $id: id, type: 'object' });
    } catch (err) {
      // Refused or not, it must be a SchemaProblem (a 400), never another error (a 500).
      expect(err).toBeInstanceOf(SchemaProblem);
    }
    expect(compileSchema(order)({ id: 'ord_1', amount: 1 })).toEqual([]);
    expect(compileSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' })(1)).toHaveLength(1);
    expect(() => compileSchema({ type: 'objec' })).toThrow(SchemaProblem);
  });

  it(`reports at most ${MAX_ISSUES} issues`, () => {
    const check = compileSchema({ type: 'array', items: { type: 'string' } });
    expect(check(Array.from({ length: 100 }, (_, i) => i), { allIssues: true })).toHaveLength(MAX_ISSUES);
  });
});
