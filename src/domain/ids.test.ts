import { describe, expect, it } from 'vitest';
import { attemptId, isId, newId } from './ids';

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
});
