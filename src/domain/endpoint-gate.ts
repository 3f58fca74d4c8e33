/**
 * How many POSTs one worker process has open to each endpoint, and what a delivery does when its
 * endpoint is at the cap.
 *
 * Why a cap: every POST is a local activity, and it holds one of the worker's slots (its workflow
 * task's, HOOKLINE_WORKER_TASK_SLOTS) for as long as the receiver takes, up to the endpoint's
 * timeout (30 s at most). Without one, a single slow or hanging endpoint with a backlog takes
 * every slot, and every other endpoint's deliveries wait behind it. With it, that endpoint holds
 * `maxInFlight` slots, and up to as many again for a second at most (the short wait below); the
 * rest of its deliveries wait on durable timers, which hold nothing.
 *
 * At the cap, a delivery whose turn should come within `shortWaitMs` waits here for a place, in
 * arrival order: a fast endpoint under a burst (or a busy worker, whose event loop lengthens
 * every POST) costs a moment, not a timer. Otherwise, or if no place came in that time, it is
 * turned away with a wait that puts it at the end of a queue that drains at the pace the
 * endpoint answers (`maxInFlight` POSTs per POST time), so a backlog comes back about as fast as
 * the endpoint can take it, at one timer per delivery per turn. The pace is the larger of the
 * running mean of POST times and the age of the oldest POST open now: an endpoint that was fast
 * and has just begun to hang is not paced by its past. The queue reaches at most
 * `MAX_BUSY_WAIT_MS` ahead: past that, a turn counted for every wait of every delivery would
 * outrun the endpoint (each comes back more than once), and places would stand empty while the
 * deliveries waited.
 *
 * The clock is injected (monotonic in production) so tests need no real one. The state is per
 * process and in memory: with several workers, an endpoint can have `maxInFlight` POSTs open from
 * each.
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT = 20;
export const MIN_BUSY_WAIT_MS = 1_000;
export const MAX_BUSY_WAIT_MS = 10 * 60_000;
/** Weight of the newest POST time in the running mean. */
const MEAN_WEIGHT = 0.2;
/** How often idle lanes whose deliveries never came back (disabled, deleted, sent elsewhere) are dropped. */
const SWEEP_EVERY_MS = 60_000;

interface Lane {
  /** Start times of the POSTs open now (at most `maxInFlight`). */
  open: Set<{ startedMs: number }>;
  /** Deliveries waiting here for a place, first come first served: a leaving POST admits the first. */
  waiting: ((entry: GateEntry) => void)[];
  /** Running mean of this endpoint's POST times; null until one has finished. */
  meanPostMs: number | null;
  /** When the last delivery turned away was told to come back. */
  queueEndsMs: number;
}

export type GateEntry =
  /** Call `leave` once the POST is over, with its time when one was sent; more calls do nothing. */
  | { admitted: true; leave: (postMs?: number) => void }
  | { admitted: false; waitMs: number };

export interface GateOptions {
  maxInFlight: number;
  /** The longest a delivery waits here for a place before it is turned away. */
  shortWaitMs?: number;
  now?: () => number;
}

export class EndpointGate {
  readonly maxInFlight: number;
  private readonly shortWaitMs: number;
  private readonly now: () => number;
  private readonly lanes = new Map<string, Lane>();
  private lastSweepMs = 0;

  constructor({ maxInFlight, shortWaitMs = MIN_BUSY_WAIT_MS, now = Date.now }: GateOptions) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    this.maxInFlight = maxInFlight;
    this.shortWaitMs = shortWaitMs;
    this.now = now;
  }

  async enter(endpointId: string): Promise<GateEntry> {
    this.sweep();
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = { open: new Set(), waiting: [], meanPostMs: null, queueEndsMs: 0 };
      this.lanes.set(endpointId, lane);
    }
    if (lane.open.size < this.maxInFlight) return this.admit(endpointId, lane);
    // At most `maxInFlight` wait here too, so one endpoint never holds more than twice that.
    if (lane.waiting.length < this.maxInFlight && (lane.waiting.length + 1) * this.turnMs(lane) <= this.shortWaitMs) {
      const handedOver = await this.placeWithin(lane, this.shortWaitMs);
      if (handedOver) return handedOver;
    }
    const nowMs = this.now();
    lane.queueEndsMs = Math.min(nowMs + MAX_BUSY_WAIT_MS, Math.max(nowMs, lane.queueEndsMs) + this.turnMs(lane));
    return { admitted: false, waitMs: Math.round(Math.min(MAX_BUSY_WAIT_MS, Math.max(MIN_BUSY_WAIT_MS, lane.queueEndsMs - nowMs))) };
  }

  /** POSTs open to `endpointId` now. */
  inFlight(endpointId: string): number {
    return this.lanes.get(endpointId)?.open.size ?? 0;
  }

  /** Endpoints with a POST open, a delivery waiting or a queue: the map forgets the others. */
  get endpoints(): number {
    return this.lanes.size;
  }

  /** Drops lanes with nothing open, nobody waiting and a drained queue, once a minute at most. */
  private sweep(): void {
    const nowMs = this.now();
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    for (const [id, lane] of this.lanes) if (lane.open.size === 0 && lane.waiting.length === 0 && lane.queueEndsMs <= nowMs) this.lanes.delete(id);
  }

  /** Time between two places freeing up: the endpoint's pace spread over its places. */
  private turnMs(lane: Lane): number {
    const nowMs = this.now();
    let oldestAgeMs = 0;
    for (const post of lane.open) oldestAgeMs = Math.max(oldestAgeMs, nowMs - post.startedMs);
    return Math.max(lane.meanPostMs ?? 0, oldestAgeMs) / this.maxInFlight;
  }

  /** The entry a leaving POST hands over within `ms`, or undefined. */
  private placeWithin(lane: Lane, ms: number): Promise<GateEntry | undefined> {
    return new Promise((resolve) => {
      const handOver = (entry: GateEntry) => {
        clearTimeout(timer);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        lane.waiting.splice(lane.waiting.indexOf(handOver), 1);
        resolve(undefined);
      }, ms);
      lane.waiting.push(handOver);
    });
  }

  private admit(endpointId: string, lane: Lane): GateEntry {
    const post = { startedMs: this.now() };
    lane.open.add(post);
    let left = false;
    const leave = (postMs?: number) => {
      // Twice would free a place that another POST holds.
      if (left) return;
      left = true;
      lane.open.delete(post);
      if (postMs !== undefined) lane.meanPostMs = lane.meanPostMs === null ? postMs : lane.meanPostMs + MEAN_WEIGHT * (postMs - lane.meanPostMs);
      const next = lane.waiting.shift();
      // The place goes to the first in line, admitted here and now: a newcomer cannot take it.
      if (next) return next(this.admit(endpointId, lane));
      // An idle endpoint whose queue has drained is forgotten, its mean with it: the next POST is
      // admitted anyway, and the map stays as small as the set of endpoints being sent to. (One
      // with a queue is kept for the deliveries coming back; the last of them, or the sweep, forgets it.)
      if (lane.open.size === 0 && lane.queueEndsMs <= this.now()) this.lanes.delete(endpointId);
    };
    return { admitted: true, leave };
  }
}
