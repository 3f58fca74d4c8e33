/**
 * Event-type subscription rules (PRODUCT.md §2). An endpoint lists patterns: `*` (everything),
 * an exact name (`invoice.paid`) or a prefix (`invoice.*`, which matches `invoice.paid` and
 * `invoice.line.added` but not `invoice` itself).
 */
const SEGMENT = '[a-zA-Z0-9_]+';
/** An event type's name: dot-separated segments (what `isEventTypeName` checks, with the length). */
export const EVENT_TYPE = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);
const PATTERN = new RegExp(`^(\\*|${SEGMENT}(\\.${SEGMENT})*(\\.\\*)?)$`);
export const EVENT_TYPE_MAX_LENGTH = 256;

export function isEventTypeName(name: string): boolean {
  return name.length <= EVENT_TYPE_MAX_LENGTH && EVENT_TYPE.test(name);
}

/**
 * Names under `hookline.` belong to Hookline itself (`hookline.test`, the type of a test send),
 * so a receiver can tell them from the producer's own events. The prefix is matched without
 * regard to case, so `Hookline.test` cannot pass for one either.
 */
export const RESERVED_EVENT_TYPE_PREFIX = 'hookline.';

export function isReservedEventType(name: string): boolean {
  return name.slice(0, RESERVED_EVENT_TYPE_PREFIX.length).toLowerCase() === RESERVED_EVENT_TYPE_PREFIX;
}

export function isEventTypePattern(pattern: string): boolean {
  return pattern.length <= EVENT_TYPE_MAX_LENGTH && PATTERN.test(pattern);
}

/**
 * Every pattern that matches `type`: `*`, the name itself, and one `prefix.*` per proper prefix.
 * The store matches endpoints by overlap with this list, so SQL and code share one rule.
 */
export function subscriptionKeys(type: string): string[] {
  const segments = type.split('.');
  const keys = ['*', type];
  for (let i = 1; i < segments.length; i++) keys.push(`${segments.slice(0, i).join('.')}.*`);
  return keys;
}

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  const keys = subscriptionKeys(type);
  return patterns.some((p) => keys.includes(p));
}

/**
 * Channel rule, as Svix does it: an endpoint without channels receives every event; an endpoint
 * with channels receives only events that carry at least one of them.
 */
export function matchesChannels(endpointChannels: readonly string[] | null, eventChannels: readonly string[] | null): boolean {
  if (!endpointChannels || endpointChannels.length === 0) return true;
  if (!eventChannels) return false;
  return eventChannels.some((c) => endpointChannels.includes(c));
}
