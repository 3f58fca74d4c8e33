/** The schema checker on real threads: answers, budgets that end the thread, and the next check after one. */
import { afterAll, describe, expect, it } from 'vitest';
import { createSchemaChecker, SchemaReplyProblem, SchemaTooSlow } from './schema-checker';

/** `$ref` chains whose every level is anyOf over the next twice: exponential on data that fails. */
function doubling(depth: number, at: 'root' | 'v' = 'v'): string {
  const $defs: Record<string, unknown> = { [`l${depth}`]: { type: 'string' } };
  for (let i = 0; i < depth; i++) $defs[`l${i}`] = { anyOf: [{ $ref: `#/$defs/l${i + 1}` }, { $ref: `#/$defs/l${i + 1}` }] };
  return JSON.stringify(at === 'root' ? { $defs, $ref: '#/$defs/l0' } : { $defs, type: 'object', properties: { v: { $ref: '#/$defs/l0' } } });
}
const REQUIRED_N = JSON.stringify({ required: ['n'] });
const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (err: unknown) => (err instanceof SchemaTooSlow ? 'too slow' : err instanceof SchemaReplyProblem ? `problem (${err.phase})` : String(err)));

describe('createSchemaChecker', () => {
  const checker = createSchemaChecker();
  afterAll(() => checker.close());
  const check = (schema: string, data: unknown, budgetMs = 5_000) => checker.check(schema, data, { allIssues: true, budgetMs });

  it('answers with the issues, concurrent checks each with their own', async () => {
    const answers = await Promise.all([{}, { n: 1 }, { m: 1 }].map((data) => check(REQUIRED_N, data)));
    expect(answers.map((a) => a.length)).toEqual([1, 0, 1]);
  });

  it('a check past its budget ends with SchemaTooSlow, and only that one: the checks queued behind it are answered on a new thread', async () => {
    const results = await Promise.all([codeOf(check(doubling(26, 'root'), 0, 300)), codeOf(check(REQUIRED_N, {})), codeOf(check(REQUIRED_N, { n: 1 }))]);
    expect(results).toEqual(['too slow', 'resolved', 'resolved']);
    expect(await check(REQUIRED_N, {})).toHaveLength(1);
  });

  it('a schema that does not compile, or fails while checking, is a SchemaReplyProblem saying which', async () => {
    expect(await codeOf(check(JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#' }), {}))).toBe('problem (compile)');
    const looping = JSON.stringify({ type: 'object', $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, properties: { x: { $ref: '#/$defs/a' } } });
    expect(await codeOf(check(looping, { x: 1 }))).toBe('problem (check)');
    expect(await check(looping, {})).toEqual([]);
  });

  it('vets a schema: the example, and the first probe over budget', async () => {
    expect(await checker.vet(REQUIRED_N, {}, { probeBudgetMs: 50, budgetMs: 5_000 })).toMatchObject({ issues: [expect.objectContaining({ message: "must have required property 'n'" })] });
    expect((await checker.vet(REQUIRED_N, { n: 1 }, { probeBudgetMs: 50, budgetMs: 5_000 })).slowProbe).toBeUndefined();
    // Reached only through the example's `v`: the probes that replace it find it.
    const slow = await checker.vet(doubling(18), { v: 's' }, { probeBudgetMs: 50, budgetMs: 20_000 });
    expect(slow.slowProbe?.probe).toMatch(/^\{"v":/);
    // One probe that would take minutes: the whole vetting's budget ends it.
    expect(await codeOf(checker.vet(doubling(26), { v: 's' }, { probeBudgetMs: 50, budgetMs: 500 }))).toBe('too slow');
  });

  it('once closed, refuses new checks', async () => {
    const closing = createSchemaChecker();
    expect(await closing.check(REQUIRED_N, {}, { allIssues: false, budgetMs: 5_000 })).toHaveLength(1);
    await closing.close();
    await expect(closing.check(REQUIRED_N, {}, { allIssues: false, budgetMs: 5_000 })).rejects.toThrow('closed');
  });
});
