/** What the logger writes for an error: never the pg client (socket, buffers, parameters) an error may carry. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sdkLogFields, sdkLogLevel, serializeError } from './logger';

describe('serializeError', () => {
  it('keeps message, type, code and stack, and drops a pg error\'s client', () => {
    const err = Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01', client: { connectionParameters: { password: 'hunter2' } } });
    const lines: string[] = [];
    const logger = pino({ serializers: { err: serializeError } }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    logger.warn({ err }, 'idle connection failed');
    expect(lines.join('')).not.toContain('hunter2');
    expect(JSON.parse(lines[0]!).err).toMatchObject({ type: 'Error', message: 'Connection terminated unexpectedly', code: '57P01', stack: expect.any(String) });
  });
});

describe('sdkLogFields', () => {
  it('serializes the errors the SDK passes under any key, and keeps the other fields', () => {
    const cause = Object.assign(new Error('sealed value has an unknown format or key id'), { code: 'E_KEY' });
    const fields = sdkLogFields({ error: cause, activityType: 'sendWebhook', attempt: 3 });
    expect(fields).toMatchObject({ activityType: 'sendWebhook', attempt: 3, error: { type: 'Error', message: 'sealed value has an unknown format or key id', code: 'E_KEY' } });
    expect(JSON.parse(JSON.stringify(fields)).error.message).toBe('sealed value has an unknown format or key id');
    expect(sdkLogFields(undefined)).toEqual({});
  });
});

describe('sdkLogLevel', () => {
  const slowTask = '[TMPRL1104] 01a210a9-fc4a-7931-a7fd-f4422e38e14e:4:1 Workflow task duration exceeded 5 seconds.';
  it.each([
    ['a delivery run\'s slow task (a slow endpoint)', { level: 'WARN', message: slowTask, meta: { workflowType: 'delivery', workflowTaskDuration: 8003 } }, 'debug'],
    ['another workflow\'s slow task', { level: 'WARN', message: slowTask, meta: { workflowType: 'fanOut' } }, 'warn'],
    ['any other warning of a delivery run', { level: 'WARN', message: 'Activity failed', meta: { workflowType: 'delivery' } }, 'warn'],
    ['an error', { level: 'ERROR', message: 'boom' }, 'error'],
  ] as const)('%s', (_name, entry, level) => {
    expect(sdkLogLevel(entry)).toBe(level);
  });
});
