import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { closableRetries, registerSearchAttributes } from './temporal';

describe('registerSearchAttributes', () => {
  /** An operator service that has `existing` and answers an add with gRPC status `code` (none: success). */
  const connection = (existing: string[], code?: number, listCode?: number) => {
    const added: string[][] = [];
    const operatorService = {
      listSearchAttributes: async () => {
        if (listCode !== undefined) throw Object.assign(new Error(`status ${listCode}`), { code: listCode });
        return { customAttributes: Object.fromEntries(existing.map((n) => [n, 1])) };
      },
      addSearchAttributes: async (req: { searchAttributes: Record<string, number> }) => {
        added.push(Object.keys(req.searchAttributes));
        if (code !== undefined) throw Object.assign(new Error(`status ${code}`), { code });
        return {};
      },
    };
    return { conn: { operatorService } as unknown as Connection, added };
  };

  it('adds only what is missing, and takes ALREADY_EXISTS (another process was first) as done', async () => {
    const some = connection(['HooklineApp', 'HooklineEvent', 'HooklineEventType']);
    expect(await registerSearchAttributes(some.conn, 'default')).toBe('registered');
    expect(some.added).toEqual([['HooklineEndpoint', 'HooklineStatus']]);
    expect(await registerSearchAttributes(connection([], 6).conn, 'default')).toBe('registered');
    const all = connection(['HooklineApp', 'HooklineEvent', 'HooklineEventType', 'HooklineEndpoint', 'HooklineStatus']);
    expect(await registerSearchAttributes(all.conn, 'default')).toBe('present');
    expect(all.added).toEqual([]);
  });

  it('a cluster that will not even list them (Temporal Cloud) is left unchecked, for the caller to warn', async () => {
    for (const code of [7, 12]) expect(await registerSearchAttributes(connection([], undefined, code).conn, 'prod.acct')).toBe('unchecked');
    // Unavailable, or bad credentials (UNAUTHENTICATED): the start fails.
    for (const code of [14, 16]) await expect(registerSearchAttributes(connection([], undefined, code).conn, 'default')).rejects.toThrow(`status ${code}`);
  });

  it('where it may not register them (Temporal Cloud), stops and names the attributes to add', async () => {
    await expect(registerSearchAttributes(connection(['HooklineApp'], 7).conn, 'prod.acct')).rejects.toThrow(
      'add HooklineEndpoint (Keyword), HooklineEventType (Keyword), HooklineEvent (Keyword), HooklineStatus (Keyword)',
    );
    await expect(registerSearchAttributes(connection([], 13).conn, 'default')).rejects.toThrow('status 13');
  });
});

describe('closableRetries', () => {
  it('a connection closed while a call its caller gave up on waits to retry throws nothing from the retry timer', async () => {
    // A port nothing listens on: every try fails UNAVAILABLE, which the policy retries.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const retries = closableRetries();
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [retries.interceptor] });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      // As the API's bounded calls do at shutdown: stop waiting, and leave the call to its retries.
      const gaveUp = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('gave up')), 300));
      await expect(Promise.race([connection.withDeadline(Date.now() + 5_000, () => connection.workflowService.getSystemInfo({})), gaveUp])).rejects.toThrow('gave up');
      await retries.drain();
      await connection.close();
      // Past the longest retry the policy had scheduled by then (2 s): with the SDK's default
      // interceptor, closing at once made that timer throw "Channel has been shut down".
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
