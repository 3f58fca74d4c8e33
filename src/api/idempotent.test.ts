import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Store } from '../store';
import { useMemoryStore } from '../../test/support/store-fixtures';
import { waitUntil } from '../../test/support/wait';
import { ApiError } from './errors';
import { canonicalJson, createIdempotency, requestFingerprint, scopeOf, type IdempotentRequest } from './idempotent';

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    ['keys sorted at every level', { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}'],
    ['array order kept', [3, 1, 2], '[3,1,2]'],
    ['no body', undefined, 'null'],
    ['a __proto__ key kept as a key', JSON.parse('{"__proto__":1,"a":2}'), '{"__proto__":1,"a":2}'],
  ])('%s', (_, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});

describe('requestFingerprint', () => {
  const base = requestFingerprint('POST', '/v1/apps', { name: 'a', uid: 'x' });
  it.each<[string, string, boolean]>([
    ['key order aside, the same', requestFingerprint('post', '/v1/apps', { uid: 'x', name: 'a' }), true],
    ['another body', requestFingerprint('POST', '/v1/apps', { name: 'b', uid: 'x' }), false],
    ['another path', requestFingerprint('POST', '/v1/apps/x/endpoints', { name: 'a', uid: 'x' }), false],
    ['another method', requestFingerprint('PUT', '/v1/apps', { name: 'a', uid: 'x' }), false],
  ])('%s', (_, other, same) => {
    expect(other === base).toBe(same);
  });
});

describe('scopeOf', () => {
  it('the admin key has its scope; an application\'s keys share one', () => {
    expect(scopeOf({ kind: 'admin' })).toBe('admin');
    expect(scopeOf({ kind: 'app', keyId: 'key_1', appId: 'app_1', appUid: null })).toBe('app:app_1');
    expect(scopeOf({ kind: 'app', keyId: 'key_2', appId: 'app_1', appUid: 'u' })).toBe('app:app_1');
  });
});

describe('createIdempotency on a store', () => {
  let store: Store;
  useMemoryStore((s) => (store = s));
  const warnings: unknown[] = [];
  const once = (request: IdempotentRequest, run: () => Promise<string | null | undefined>) => createIdempotency(store.idempotentRequests, { warn: (o: unknown) => warnings.push(o) }).once(request, 201, run);
  const request = (overrides: Partial<IdempotentRequest> = {}): IdempotentRequest => ({ scope: 'admin', key: randomUUID(), fingerprint: 'f1', ...overrides });
  const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: unknown) => (err instanceof ApiError ? `${err.status} ${err.code}` : String(err)));
  /** Moves a record's claim time back, as if it were made `seconds` ago. */
  const age = (r: IdempotentRequest, seconds: number) =>
    store.db.updateTable('idempotent_requests').set({ created_at: sql<Date>`now() - make_interval(secs => ${seconds})` }).where('scope', '=', r.scope).where('key', '=', r.key).execute();

  it('runs the first request, and answers a repeat with its answer', async () => {
    const r = request();
    let runs = 0;
    const run = async () => `{"n":${++runs}}`;
    expect(await once(r, run)).toEqual({ status: 201, body: '{"n":1}', replayed: false });
    expect(await once(r, run)).toEqual({ status: 201, body: '{"n":1}', replayed: true });
    expect(runs).toBe(1);
  });

  it('keeps an answer without a body', async () => {
    const r = request();
    await once(r, async () => null);
    expect(await once(r, async () => '{}')).toEqual({ status: 201, body: null, replayed: true });
  });

  it('the key with another request is a 422, while it runs or after', async () => {
    const r = request();
    await once(r, async () => '{}');
    expect(await codeOf(once({ ...r, fingerprint: 'f2' }, async () => '{}'))).toBe('422 idempotency_key_reused');
    const running = request();
    let finish!: () => void;
    const first = once(running, () => new Promise((resolve) => (finish = () => resolve('{}'))));
    await waitUntil(() => store.db.selectFrom('idempotent_requests').select('key').where('key', '=', running.key).executeTakeFirst(), Boolean, 5_000, 'the claim');
    expect(await codeOf(once({ ...running, fingerprint: 'f2' }, async () => '{}'))).toBe('422 idempotency_key_reused');
    expect(await codeOf(once(running, async () => '{}'))).toBe('409 idempotency_key_in_use');
    finish();
    expect((await first)?.replayed).toBe(false);
  });

  it('one of two concurrent requests runs', async () => {
    const r = request();
    let runs = 0;
    const results = await Promise.all([0, 1, 2].map(() => codeOf(once(r, async () => `{"n":${++runs}}`))));
    expect(runs).toBe(1);
    expect(results.filter((x) => x === 'resolved').length).toBeGreaterThanOrEqual(1);
    expect(results.every((x) => x === 'resolved' || x === '409 idempotency_key_in_use')).toBe(true);
  });

  it('a request that fails frees its key: the retry runs', async () => {
    const r = request();
    await expect(once(r, async () => Promise.reject(new ApiError(503, 'api_error', 'temporal_unavailable', 'down')))).rejects.toThrow('down');
    expect(await once(r, async () => '{"ok":true}')).toEqual({ status: 201, body: '{"ok":true}', replayed: false });
  });

  it('a request that answered by itself is not remembered', async () => {
    const r = request();
    expect(await once(r, async () => undefined)).toBeUndefined();
    expect((await once(r, async () => '{}'))?.replayed).toBe(false);
  });

  it('scopes keep keys apart', async () => {
    const r = request();
    await once(r, async () => '{"a":1}');
    expect(await once({ ...r, scope: 'app:app_1' }, async () => '{"a":2}')).toEqual({ status: 201, body: '{"a":2}', replayed: false });
  });

  it('a key is remembered for 24 hours; an unanswered claim is taken as abandoned after a minute', async () => {
    const old = request();
    await once(old, async () => '{"v":1}');
    await age(old, 23 * 3600);
    expect((await once(old, async () => '{"v":2}'))?.body).toBe('{"v":1}');
    await age(old, 24 * 3600 + 1);
    expect(await once(old, async () => '{"v":2}')).toMatchObject({ body: '{"v":2}', replayed: false });

    const abandoned = request();
    await store.idempotentRequests.claim(abandoned.scope, abandoned.key, abandoned.fingerprint);
    expect(await codeOf(once(abandoned, async () => '{}'))).toBe('409 idempotency_key_in_use');
    await age(abandoned, 61);
    expect(await once(abandoned, async () => '{"again":true}')).toMatchObject({ replayed: false });
  });

  it('stores answers sealed: a new secret in one is not readable in the table', async () => {
    const r = request();
    await once(r, async () => '{"secret":"whsec_plain"}');
    const row = await store.db.selectFrom('idempotent_requests').select('response').where('key', '=', r.key).executeTakeFirstOrThrow();
    expect(row.response).not.toContain('whsec_plain');
  });

  it('prune deletes only expired records', async () => {
    const kept = request();
    const expired = request();
    await once(kept, async () => '{}');
    await once(expired, async () => '{}');
    await age(expired, 25 * 3600);
    expect(await store.idempotentRequests.prune()).toBeGreaterThanOrEqual(1);
    const keys = (await store.db.selectFrom('idempotent_requests').select('key').execute()).map((row) => row.key);
    expect(keys).toContain(kept.key);
    expect(keys).not.toContain(expired.key);
  });
});
