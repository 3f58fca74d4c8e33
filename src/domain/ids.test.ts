import { describe, expect, it } from 'vitest';
import { attemptId, idFloor, idTime, isId, namesId, newId, uidProblem } from './ids';

describe('ids', () => {
  it('are prefixed, valid and time-ordered', () => {
    const a = newId('evt', 1_700_000_000_000);
    const b = newId('evt', 1_700_000_000_001);
    expect(isId('evt', a)).toBe(true);
    expect(isId('ep', a)).toBe(false);
    expect(a < b).toBe(true);
  });

  it.each(['evt_', 'evt_123', 'evt_01M838KD3CHFQGT1S3B7N6488a', "evt_01M838KD3CHFQGT1S3B7N6488'", 'ep_01M838KD3CHFQGT1S3B7N6488A'])('%s is not an event id', (v) => {
    expect(isId('evt', v)).toBe(false);
  });

  it('derives attempt ids from the delivery and the number', () => {
    expect(attemptId('dlv_01M838KDBENE2CD8HEZ8403BKN', 3)).toBe('atmpt_01M838KDBENE2CD8HEZ8403BKN_3');
  });

  it.each([
    ['app_01M838KD3CHFQGT1S3B7N6488A', true],
    ['app_anything', true],
    ['app-1', false],
    ['my-app_1', false],
    ['APP_1', false],
  ])('namesId("app", %s) is %s', (segment, expected) => {
    expect(namesId('app', segment)).toBe(expected);
  });

  it.each([
    ['customer-42', null],
    ['app-42', null],
    ['apple_pie', null],
    ['app_01M838KD3CHFQGT1S3B7N6488A', 'must not start with "app_", which Hookline\'s ids use'],
    ['ep_x', 'must not start with "ep_", which Hookline\'s ids use'],
    ['evt_x', 'must not start with "evt_", which Hookline\'s ids use'],
    ['.', 'must not be "." or ".."'],
    ['..', 'must not be "." or ".."'],
    ['...', null],
    ['v1.2', null],
  ])('uid %s: %s', (uid, problem) => {
    expect(uidProblem(uid)).toBe(problem);
  });

  it.each([0, 1, 1_763_900_000_123, 2 ** 48 - 1])('idTime reads back the millisecond an id was made at (%d)', (t) => {
    expect(idTime(newId('dlv', t)).getTime()).toBe(t);
    expect(idTime(idFloor('evt', new Date(t))).getTime()).toBe(t);
  });

  it('idFloor bounds ids by creation time: ids of that millisecond or later sort at or above it, earlier ones below', () => {
    const t = 1_763_900_000_123;
    const floor = idFloor('evt', new Date(t));
    expect(isId('evt', floor)).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(newId('evt', t) >= floor).toBe(true);
      expect(newId('evt', t + 1) >= floor).toBe(true);
      expect(newId('evt', t - 1) < floor).toBe(true);
    }
  });
});
