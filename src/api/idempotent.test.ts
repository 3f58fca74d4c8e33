import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Store } from '../store';
import { ABANDONED_CLAIM_S } from '../store/idempotent-requests';
import { useMemoryStore } from '../../test/support/store-fixtures';
import { waitUntil } from '../../test/support/wait';
import { ApiError } from './errors';
import { canonicalJson, createIdempotency, decryptAnswer, encryptAnswer, requestFingerprint, scopeOf, storedKey, type IdempotentRequest } from './idempotent';

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
  const base = requestFingerprint('k1', 'POST', '/v1/apps', { name: 'a', uid: 'x' });
  it.each<[string, string, boolean]>([
    ['key order aside, the same', requestFingerprint('k1', 'post', '/v1/apps', { uid: 'x', name: 'a' }), true],
    ['another body', requestFingerprint('k1', 'POST', '/v1/apps', { name: 'b', uid: 'x' }), false],
    ['another path', requestFingerprint('k1', 'POST', '/v1/apps/x/endpoints', { name: 'a', uid: 'x' }), false],
    ['another method', requestFingerprint('k1', 'PUT', '/v1/apps', { name: 'a', uid: 'x' }), false],
    // Salted with the key: the same body under another key digests differently.
    ['another key', requestFingerprint('k2', 'POST', '/v1/apps', { name: 'a', uid: 'x' }), false],
  ])('%s', (_, other, same) => {
    expect(other === base).toBe(same);
  });
});

describe('encryptAnswer', () => {
  it('opens with the same key and scope only', () => {
    const sealed = encryptAnswer('key-1', 'app:app_1', '{"secret":"whsec_x"}');
    expect(sealed).not.toContain('whsec');
    expect(decryptAnswer('key-1', 'app:app_1', sealed)).toBe('{"secret":"whsec_x"}');
    expect(() => decryptAnswer('key-2', 'app:app_1', sealed)).toThrow();
    expect(() => decryptAnswer('key-1', 'admin', sealed)).toThrow();
    expect(encryptAnswer('key-1', 'app:app_1', '{}')).not.toBe(encryptAnswer('key-1', 'app:app_1', '{}'));
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
    store.db.updateTable('idempotent_requests').set({ created_at: sql<Date>`now() - make_interval(secs => ${seconds})` }).where('scope', '=', r.scope).where('key', '=', storedKey(r.key)).execute();
  const rowOf = (r: IdempotentRequest) => store.db.selectFrom('idempotent_requests').selectAll().where('scope', '=', r.scope).where('key', '=', storedKey(r.key)).executeTakeFirst();

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
    await waitUntil(() => rowOf(running), Boolean, 5_000, 'the claim');
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
    await store.idempotentRequests.claim(abandoned.scope, storedKey(abandoned.key), abandoned.fingerprint);
    expect(await codeOf(once(abandoned, async () => '{}'))).toBe('409 idempotency_key_in_use');
    await age(abandoned, ABANDONED_CLAIM_S + 1);
    expect(await once(abandoned, async () => '{"again":true}')).toMatchObject({ replayed: false });
  });

  it('a request that outlived its claim neither answers nor frees the claim that took the key over', async () => {
    const r = request();
    const key = storedKey(r.key);
    const first = await store.idempotentRequests.claim(r.scope, key, r.fingerprint);
    await age(r, ABANDONED_CLAIM_S + 1);
    const second = await store.idempotentRequests.claim(r.scope, key, r.fingerprint);
    if (first.kind !== 'claimed' || second.kind !== 'claimed') throw new Error('both should claim');
    await store.idempotentRequests.release(r.scope, key, first.token);
    expect(await rowOf(r)).toMatchObject({ claim: second.token, status: null });
    await store.idempotentRequests.answer(r.scope, key, first.token, 201, 'late');
    expect(await rowOf(r)).toMatchObject({ status: null });
    await store.idempotentRequests.answer(r.scope, key, second.token, 201, null);
    expect(await rowOf(r)).toMatchObject({ status: 201 });
  });

  it("stores neither the client's key nor a readable answer", async () => {
    const r = request();
    await once(r, async () => '{"secret":"whsec_plain"}');
    const row = await rowOf(r);
    expect(row?.key).not.toBe(r.key);
    expect(row?.response).not.toContain('whsec_plain');
    // Opening the server's seal (the store does) is not enough: the answer is encrypted under the client's key too.
    const opened = await store.idempotentRequests.claim(r.scope, storedKey(r.key), r.fingerprint);
    expect(opened).toMatchObject({ kind: 'answered', body: expect.not.stringContaining('whsec_plain') });
    expect(await once(r, async () => '{}')).toMatchObject({ body: '{"secret":"whsec_plain"}', replayed: true });
  });

  it('prune deletes only expired records', async () => {
    const kept = request();
    const expired = request();
    await once(kept, async () => '{}');
    await once(expired, async () => '{}');
    await age(expired, 25 * 3600);
    expect(await store.idempotentRequests.prune()).toBeGreaterThanOrEqual(1);
    expect(await rowOf(kept)).toBeDefined();
    expect(await rowOf(expired)).toBeUndefined();
  });
});
