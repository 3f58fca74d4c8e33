/**
 * Values an event-type schema is timed on before it is stored. A JSON Schema can take exponential
 * time to check: `anyOf` (or `oneOf`) whose branches reach the same subschema again, nested 20
 * deep, took 3.4 s for one event, on the API's event loop. Data that satisfies the first branch
 * is quick; data that fails explores every branch. So the probes are values that fail: scalars of
 * each type, empty containers, and the example with one of its nodes replaced by each of those,
 * which reaches the subschemas behind the example's own properties and items.
 *
 * A static bound on the schema's shape was tried and reverted: it refused ordinary recursive
 * schemas. Timing these probes refuses what is slow in Ajv itself, whatever its shape. It cannot
 * see a slow path that no probe takes; the API's run-time guard (api/event-schemas.ts) bounds
 * those to one slow check per schema and process.
 */

/** Values each probe puts in place of one node. */
const FAILING_VALUES: readonly unknown[] = [null, true, 0, -1.5, '', 'x', [], {}, [null], { '': null }];
/** Nodes of the example replaced, breadth first; the rest are not probed. */
export const MAX_PROBED_NODES = 32;

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/**
 * The probe values for a schema whose example is `example`. Yields one document that it changes
 * in place between yields (a copy of the example: the caller's is never changed), so use each
 * value before asking for the next. Count: FAILING_VALUES × (1 + the example's first
 * MAX_PROBED_NODES nodes below its root).
 */
export function* schemaProbes(example: unknown): Generator<unknown> {
  yield* FAILING_VALUES;
  if (!isContainer(example)) return;
  const root = structuredClone(example);
  for (const [parent, key] of nodesBreadthFirst(root, MAX_PROBED_NODES)) {
    const kept = (parent as Record<string, unknown>)[key];
    for (const value of FAILING_VALUES) {
      (parent as Record<string, unknown>)[key] = value;
      yield root;
    }
    (parent as Record<string, unknown>)[key] = kept;
  }
}

/** Where the first `max` nodes below `root` sit: [their container, their key or index]. */
function nodesBreadthFirst(root: Container, max: number): [Container, string | number][] {
  const found: [Container, string | number][] = [];
  const queue: Container[] = [root];
  for (let i = 0; i < queue.length && found.length < max; i++) {
    const node = queue[i]!;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, index) => index) : Object.keys(node);
    for (const key of keys) {
      if (found.length >= max) break;
      // Assigning to it would set the prototype, not the key.
      if (key === '__proto__') continue;
      found.push([node, key]);
      const child = (node as Record<string, unknown>)[key];
      if (isContainer(child)) queue.push(child);
    }
  }
  return found;
}
