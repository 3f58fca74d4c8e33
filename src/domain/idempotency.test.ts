import { describe, expect, it } from 'vitest';
import { idempotencyMismatch, type EventRequest } from './idempotency';

const first: EventRequest = { type: 'invoice.paid', dataJson: '{"id":"in_1","amount":4200}', previousDataJson: null, channels: ['eu'], endpointIds: ['ep_a', 'ep_b'] };

describe('idempotencyMismatch', () => {
  it.each<[string, Partial<EventRequest>, string[]]>([
    ['the same request', {}, []],
    ['keys in another order', { dataJson: '{"amount":4200,"id":"in_1"}' }, []],
    ['a number written another way', { dataJson: '{"id":"in_1","amount":4.2e3}' }, []],
    ['1.0 for 1', { dataJson: '{"id":"in_1","amount":4200.0}' }, []],
    ['an integer past 2^53 one apart (equal as doubles)', { dataJson: '{"id":"in_1","amount":4200,"n":12345678901234567891}' }, ['data']],
    ['a decimal past a double\'s precision', { dataJson: '{"id":"in_1","amount":4200,"x":0.1000000000000000001}' }, ['data']],
    ['ids in another order, repeated', { endpointIds: ['ep_b', 'ep_a', 'ep_b'] }, []],
    ['another type', { type: 'invoice.voided' }, ['type']],
    ['another value', { dataJson: '{"id":"in_1","amount":4201}' }, ['data']],
    ['a value of another type', { dataJson: '{"id":"in_1","amount":"4200"}' }, ['data']],
    ['one key more', { dataJson: '{"id":"in_1","amount":4200,"x":null}' }, ['data']],
    ['previous_data added', { previousDataJson: '{"amount":1}' }, ['previous_data']],
    ['no channels', { channels: null }, ['channels']],
    ['no channel', { channels: [] }, ['channels']],
    ['one endpoint fewer', { endpointIds: ['ep_a'] }, ['endpoint_ids']],
    ['no endpoint ids', { endpointIds: null }, ['endpoint_ids']],
    ['everything', { type: 'x', dataJson: '[]', previousDataJson: '{}', channels: null, endpointIds: null }, ['type', 'data', 'previous_data', 'channels', 'endpoint_ids']],
  ])('%s', (_name, change, expected) => {
    expect(idempotencyMismatch(first, { ...first, ...change })).toEqual(expected);
  });

  it('keeps every digit: two integers past 2^53 are the same only as written', () => {
    const big = { ...first, dataJson: '{"n":12345678901234567890,"m":[1,2]}' };
    expect(idempotencyMismatch(big, { ...big, dataJson: '{"m":[1,2],"n":12345678901234567890}' })).toEqual([]);
    expect(idempotencyMismatch(big, { ...big, dataJson: '{"n":12345678901234567891,"m":[1,2]}' })).toEqual(['data']);
    expect(idempotencyMismatch(big, { ...big, dataJson: '{"n":12345678901234567890,"m":[2,1]}' })).toEqual(['data']);
  });

  it('reads an array of ids as a set in both directions', () => {
    expect(idempotencyMismatch({ ...first, endpointIds: ['ep_a', 'ep_a'] }, { ...first, endpointIds: ['ep_a', 'ep_b'] })).toEqual(['endpoint_ids']);
  });
});
