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
  const check = async (schema: string, data: unknown, deadlineMs = 5_000) => (await checker.check(schema, data, { allIssues: true, deadlineMs })).issues;

  it('answers with the issues, concurrent checks each with their own', async () => {
    const answers = await Promise.all([{}, { n: 1 }, { m: 1 }].map((data) => check(REQUIRED_N, data)));
    expect(answers.map((a) => a.length)).toEqual([1, 0, 1]);
  });

  it('says how long each check took on the thread', async () => {
    const { ms } = await checker.check(REQUIRED_N, {}, { allIssues: true, deadlineMs: 5_000 });
    expect(Number.isFinite(ms) && ms >= 0).toBe(true);
  });

  it('a check past its deadline ends with SchemaTooSlow, with the checks of the same schema queued behind it; the others are answered on a new thread', async () => {
    const slow = doubling(26, 'root');
    // The first check of a schema on a thread gets room to compile: 2 s more than its deadline.
    const results = await Promise.all([codeOf(check(slow, 0, 100)), codeOf(check(REQUIRED_N, {})), codeOf(check(slow, 1, 100)), codeOf(check(REQUIRED_N, { n: 1 }))]);
    expect(results).toEqual(['too slow', 'resolved', 'too slow', 'resolved']);
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
    expect((await closing.check(REQUIRED_N, {}, { allIssues: false, deadlineMs: 5_000 })).issues).toHaveLength(1);
    await closing.close();
    await expect(closing.check(REQUIRED_N, {}, { allIssues: false, deadlineMs: 5_000 })).rejects.toThrow('closed');
  });
});
