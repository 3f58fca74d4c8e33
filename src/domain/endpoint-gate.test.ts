import { describe, expect, it } from 'vitest';
import { EndpointGate, type GateEntry, MAX_BUSY_WAIT_MS, MIN_BUSY_WAIT_MS } from './endpoint-gate';

function clock(start = 0) {
  const c = { ms: start, now: () => c.ms };
  return c;
}

const admitted = async (e: GateEntry | Promise<GateEntry>) => {
  const entry = await e;
  if (!entry.admitted) throw new Error(`expected admission, was told to wait ${entry.waitMs} ms`);
  return entry;
};
const waitOf = async (e: Promise<GateEntry>) => {
  const entry = await e;
  if (entry.admitted) throw new Error('expected a wait, was admitted');
  return entry.waitMs;
};
/** Whether `p` has settled by the time this turn's callbacks have run. */
const settled = async (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5))]);

describe('EndpointGate', () => {
  it('admits up to the cap per endpoint, and other endpoints meanwhile', async () => {
    const gate = new EndpointGate({ maxInFlight: 2, shortWaitMs: 0, now: clock().now });
    await admitted(gate.enter('ep_a'));
    await admitted(gate.enter('ep_a'));
    expect((await gate.enter('ep_a')).admitted).toBe(false);
    await admitted(gate.enter('ep_b'));
    expect(gate.inFlight('ep_a')).toBe(2);
  });

  it('frees a place when a POST leaves, once only however often leave is called', async () => {
    const gate = new EndpointGate({ maxInFlight: 1, shortWaitMs: 0, now: clock().now });
    const first = await admitted(gate.enter('ep_a'));
    first.leave(5);
    first.leave(5);
    const second = await admitted(gate.enter('ep_a'));
    expect((await gate.enter('ep_a')).admitted).toBe(false);
    second.leave();
    expect(gate.inFlight('ep_a')).toBe(0);
  });

  it('at the cap of a fast endpoint, waits here for a place, in arrival order', async () => {
    const gate = new EndpointGate({ maxInFlight: 2, shortWaitMs: 1_000, now: clock().now });
    const open = [await admitted(gate.enter('ep_a')), await admitted(gate.enter('ep_a'))];
    const first = gate.enter('ep_a');
    const second = gate.enter('ep_a');
    expect(await settled(first)).toBe(false);
    open[0]!.leave(10);
    const firstIn = await admitted(first);
    expect(await settled(second)).toBe(false);
    expect(gate.inFlight('ep_a')).toBe(2);
    firstIn.leave(10);
    (await admitted(second)).leave(10);
    open[1]!.leave(10);
    expect(gate.inFlight('ep_a')).toBe(0);
  });

  it('turns a delivery away when no place came within the short wait, and lets no more than the cap wait here', async () => {
    const gate = new EndpointGate({ maxInFlight: 2, shortWaitMs: 50, now: clock().now });
    await admitted(gate.enter('ep_a'));
    await admitted(gate.enter('ep_a'));
    const [first, second] = [gate.enter('ep_a'), gate.enter('ep_a')];
    // Two wait here (the cap); the third is turned away at once.
    expect(await waitOf(gate.enter('ep_a'))).toBe(MIN_BUSY_WAIT_MS);
    expect(await settled(first)).toBe(false);
    expect(await Promise.all([waitOf(first), waitOf(second)])).toEqual([MIN_BUSY_WAIT_MS, MIN_BUSY_WAIT_MS]);
  });

  it('queues at most MAX_BUSY_WAIT_MS ahead, so a long backlog does not leave places empty', async () => {
    const c = clock();
    const gate = new EndpointGate({ maxInFlight: 1, shortWaitMs: 0, now: c.now });
    const open = await admitted(gate.enter('ep_a'));
    c.ms = 30_000;
    // 22 turns of 30 s would reach 660 s ahead; the queue stops at 600 s.
    for (let i = 0; i < 22; i++) await waitOf(gate.enter('ep_a'));
    c.ms = 30_000 + MAX_BUSY_WAIT_MS;
    open.leave(c.ms);
    // The queue has drained by now: the endpoint is forgotten, and the next POST starts afresh.
    expect(gate.endpoints).toBe(0);
    await admitted(gate.enter('ep_a'));
    expect(await waitOf(gate.enter('ep_a'))).toBe(MIN_BUSY_WAIT_MS);
  });

  it('drops, within a minute, an idle endpoint whose deliveries never came back', async () => {
    const c = clock();
    const gate = new EndpointGate({ maxInFlight: 1, shortWaitMs: 0, now: c.now });
    const open = await admitted(gate.enter('ep_a'));
    c.ms = 10_000;
    await waitOf(gate.enter('ep_a'));
    open.leave(10_000);
    expect(gate.endpoints).toBe(1);
    c.ms = 10_000 + MAX_BUSY_WAIT_MS + 60_000;
    (await admitted(gate.enter('ep_b'))).leave(5);
    expect(gate.endpoints).toBe(0);
  });

  // The queue drains at maxInFlight POSTs per POST time: the running mean, or the age of the
  // oldest POST open now when that is longer (an endpoint that has just begun to hang).
  it.each([
    // [cap, POST times seen, age of the oldest open POST, turned away, their waits]
    [4, [], 30_000, 3, [7_500, 15_000, 22_500]],
    [10, [20_000], 0, 3, [2_000, 4_000, 6_000]],
    [2, [100], 0, 3, [MIN_BUSY_WAIT_MS, MIN_BUSY_WAIT_MS, MIN_BUSY_WAIT_MS]],
    [2, [100], 8_000, 3, [4_000, 8_000, 12_000]],
    [1, [], 30_000, 22, [...Array.from({ length: 20 }, (_, i) => (i + 1) * 30_000), MAX_BUSY_WAIT_MS, MAX_BUSY_WAIT_MS]],
  ])('cap %d, POST times %j, oldest open for %d ms: the turned-away wait in turn', async (cap, seen, ageMs, turnedAway, waits) => {
    const c = clock();
    const gate = new EndpointGate({ maxInFlight: cap, shortWaitMs: 0, now: c.now });
    // One POST stays open throughout, so the running mean is kept.
    await admitted(gate.enter('ep_a'));
    for (const postMs of seen) (await admitted(gate.enter('ep_a'))).leave(postMs);
    for (let i = 1; i < cap; i++) await admitted(gate.enter('ep_a'));
    c.ms = ageMs;
    const got: number[] = [];
    for (let i = 0; i < turnedAway; i++) got.push(await waitOf(gate.enter('ep_a')));
    expect(got).toEqual(waits);
  });

  it('weighs recent POST times in the mean', async () => {
    const gate = new EndpointGate({ maxInFlight: 2, shortWaitMs: 0, now: clock().now });
    await admitted(gate.enter('ep_a'));
    (await admitted(gate.enter('ep_a'))).leave(10_000);
    for (let i = 0; i < 20; i++) (await admitted(gate.enter('ep_a'))).leave(2_000);
    await admitted(gate.enter('ep_a'));
    // A mean of 2 s plus what is left of the first 10 s (8 s × 0.8^20 ≈ 92 ms), over 2 places.
    expect(await waitOf(gate.enter('ep_a'))).toBe(1_046);
  });

  it('starts the queue from now once it has drained', async () => {
    const c = clock();
    const gate = new EndpointGate({ maxInFlight: 2, shortWaitMs: 0, now: c.now });
    await admitted(gate.enter('ep_a'));
    (await admitted(gate.enter('ep_a'))).leave(8_000);
    await admitted(gate.enter('ep_a'));
    expect(await waitOf(gate.enter('ep_a'))).toBe(4_000);
    expect(await waitOf(gate.enter('ep_a'))).toBe(8_000);
    c.ms = 20_000;
    // The open POSTs are 20 s old now: they set the pace.
    expect(await waitOf(gate.enter('ep_a'))).toBe(10_000);
  });

  it('forgets an idle endpoint once its queue has drained, not before', async () => {
    const c = clock();
    const gate = new EndpointGate({ maxInFlight: 1, shortWaitMs: 0, now: c.now });
    const open = await admitted(gate.enter('ep_a'));
    c.ms = 4_000;
    expect(await waitOf(gate.enter('ep_a'))).toBe(4_000);
    open.leave(4_000);
    expect(gate.endpoints).toBe(1);
    c.ms = 8_000;
    (await admitted(gate.enter('ep_a'))).leave(10);
    expect(gate.endpoints).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a cap of %d', (cap) => {
    expect(() => new EndpointGate({ maxInFlight: cap })).toThrow(RangeError);
  });
});
