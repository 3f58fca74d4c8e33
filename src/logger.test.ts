/** What the logger writes for an error: never the pg client (socket, buffers, parameters) an error may carry. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { serializeError } from './logger';

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
