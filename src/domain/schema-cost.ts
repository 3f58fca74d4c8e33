/**
 * How much work a JSON Schema can make out of one value of event data, decided before the schema
 * is stored. Event data comes from application keys, and two shapes of schema let small data hold
 * the event loop:
 *
 * - A cycle of references that never moves into the data (`a: {allOf: [{$ref: a}]}`): the
 *   validator recurses on the same value until the stack overflows.
 * - Subschemas that apply to the same value many times over: `anyOf` twice over the same
 *   definition, 20 levels deep, is 2^20 checks of one value (3.4 s, found by a black-box pass),
 *   and the same shape through `properties`/`items` doubles per level of the data.
 *
 * The schema becomes a graph: an edge "in place" applies a subschema to the same value (`allOf`,
 * `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`, references), and an edge "into
 * the data" applies it to a member or item. In-place cycles are refused. Then, for each depth of
 * data up to `maxDepth`, it bounds how many subschemas can apply to one value at that depth (for
 * any one key at each level) in how many ways one subschema can apply to one value at that
 * depth, and refuses a schema where that passes `MAX_WAYS_PER_SUBSCHEMA`. Reaching many different
 * subschemas is fine (that is the schema's size); reaching the same one many ways over is what
 * multiplies. References resolve the way the validator resolves
 * them inside the schema (`$id` bases, JSON pointers, `$anchor`); a dynamic reference counts as
 * reaching every `$dynamicAnchor` of its name. One that resolves to nothing here (a meta-schema
 * the validator knows) counts as a leaf.
 */
import type { SchemaIssue } from './json-schema';

/**
 * At most this many ways may one subschema apply to one value of event data. A shared definition
 * under every variant of a `oneOf` is reached once per variant; 1,000 leaves room for that, and
 * refuses doubling past 10 levels.
 */
export const MAX_WAYS_PER_SUBSCHEMA = 1_000;

const IN_PLACE_LISTS = ['allOf', 'anyOf', 'oneOf'];
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_MAPS = ['dependentSchemas', 'dependencies'];
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];
/** Into an array's items, or any member of an object (the key is not known). */
const INTO_ANY = ['items', 'prefixItems', 'additionalItems', 'unevaluatedItems', 'contains', 'additionalProperties', 'unevaluatedProperties', 'propertyNames'];
const ANY_KEY = '\u0000any';

type Node = Record<string, unknown>;
interface Edge {
  to: Node;
  /** Undefined: in place; ANY_KEY: into any member or item; otherwise into that member. */
  key?: string;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const pointerSegment = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const ROOT_BASE = 'hookline:/schema';

/** Every subschema by its absolute URI (base + pointer, and base + anchor), and each node's base. */
function index(root: Node) {
  const byUri = new Map<string, Node>();
  const baseOf = new Map<Node, string>();
  const dynamicAnchors = new Map<string, Node[]>();
  const recursiveAnchors: Node[] = [root];
  const visit = (node: Node, base: string, pointer: string) => {
    const id = typeof node.$id === 'string' ? node.$id : undefined;
    if (id !== undefined && !id.startsWith('#')) {
      base = resolve(id, base).split('#')[0]!;
      pointer = '';
      if (node.$recursiveAnchor === true) recursiveAnchors.push(node);
    }
    baseOf.set(node, base);
    byUri.set(`${base}#${pointer}`, node);
    for (const anchor of [node.$anchor, node.$dynamicAnchor, id?.startsWith('#') ? id.slice(1) : undefined]) {
      if (typeof anchor === 'string') byUri.set(`${base}#${anchor}`, node);
    }
    if (typeof node.$dynamicAnchor === 'string') dynamicAnchors.set(node.$dynamicAnchor, [...(dynamicAnchors.get(node.$dynamicAnchor) ?? []), node]);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'const' || key === 'enum' || key === 'examples' || key === 'default' || key === 'example') continue;
      const at = `${pointer}/${pointerSegment(key)}`;
      if (isNode(value)) visit(value, base, at);
      else if (Array.isArray(value)) value.forEach((item, i) => isNode(item) && visit(item, base, `${at}/${i}`));
    }
  };
  visit(root, ROOT_BASE, '');
  return { byUri, baseOf, dynamicAnchors, recursiveAnchors };
}

function resolve(ref: string, base: string): string {
  try {
    return new URL(ref, base).href;
  } catch {
    return `${base}#\u0000unresolvable`;
  }
}

/** The edges out of `node`; a reference within the schema's own document that resolves to nothing goes to `unresolved`. */
function edgesOf(node: Node, idx: ReturnType<typeof index>, unresolved: string[]): Edge[] {
  const edges: Edge[] = [];
  const base = idx.baseOf.get(node) ?? ROOT_BASE;
  const add = (to: unknown, key?: string) => {
    if (isNode(to)) edges.push(key === undefined ? { to } : { to, key });
  };
  for (const k of IN_PLACE_LISTS) if (Array.isArray(node[k])) (node[k] as unknown[]).forEach((s) => add(s));
  for (const k of IN_PLACE_ONE) add(node[k]);
  for (const k of IN_PLACE_MAPS) if (isNode(node[k])) Object.values(node[k]).forEach((s) => add(s));
  for (const k of REF_KEYWORDS) {
    const ref = node[k];
    if (typeof ref !== 'string') continue;
    const [where = '', fragment = ''] = resolve(ref, base).split('#');
    const target = idx.byUri.get(`${where}#${decodeURIComponent(fragment).replace(/\/$/, '')}`);
    const dynamic = k === '$dynamicRef' && idx.dynamicAnchors.has(decodeURIComponent(fragment));
    if (!target && !dynamic && ref.startsWith('#')) unresolved.push(`${k} "${ref}"`);
    add(target);
    if (k === '$dynamicRef') (idx.dynamicAnchors.get(decodeURIComponent(fragment)) ?? []).forEach((s) => add(s));
    if (k === '$recursiveRef') idx.recursiveAnchors.forEach((s) => add(s));
  }
  if (isNode(node.properties)) for (const [key, s] of Object.entries(node.properties)) add(s, key);
  if (isNode(node.patternProperties)) Object.values(node.patternProperties).forEach((s) => add(s, ANY_KEY));
  for (const k of INTO_ANY) {
    const value = node[k];
    if (Array.isArray(value)) value.forEach((s) => add(s, ANY_KEY));
    else add(value, ANY_KEY);
  }
  return edges;
}

/** Problems that make `schema` too costly to apply to event data; none when it is fine. */
export function schemaCostProblems(schema: Node, maxDepth: number): SchemaIssue[] {
  const idx = index(schema);
  const pointerOf = new Map<Node, string>();
  for (const [uri, node] of idx.byUri) if (!pointerOf.has(node) && /#(\/|$)/.test(uri)) pointerOf.set(node, uri.slice(uri.indexOf('#') + 1) || '/');
  const edges = new Map<Node, Edge[]>();
  const unresolved: string[] = [];
  const edgesFrom = (n: Node) => {
    let e = edges.get(n);
    if (!e) edges.set(n, (e = edgesOf(n, idx, unresolved)));
    return e;
  };
  for (const node of new Set(idx.byUri.values())) {
    edgesFrom(node);
    // The validator would resolve it to something outside the schema (its own meta-schema), or loop.
    if (unresolved.length > 0) return [{ path: pointerOf.get(node) ?? '/', message: `${unresolved[0]} resolves to nothing in this schema` }];
  }

  // In-place order (a topological sort), refusing a cycle.
  const order: Node[] = [];
  const state = new Map<Node, 'open' | 'done'>();
  for (const start of edges.keys()) {
    const stack: { node: Node; next: number }[] = [];
    if (state.has(start)) continue;
    state.set(start, 'open');
    stack.push({ node: start, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const inPlace = edgesFrom(top.node).filter((e) => e.key === undefined);
      if (top.next < inPlace.length) {
        const to = inPlace[top.next++]!.to;
        if (state.get(to) === 'open') {
          return [{ path: pointerOf.get(to) ?? '/', message: 'references here form a cycle that never moves into the data: checking any value would never end' }];
        }
        if (!state.has(to)) {
          state.set(to, 'open');
          stack.push({ node: to, next: 0 });
        }
      } else {
        state.set(top.node, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  }
  order.reverse(); // parents before the subschemas they apply in place

  const cap = MAX_WAYS_PER_SUBSCHEMA + 1;
  /** Spreads counts along in-place edges: how many ways each subschema applies to the value. */
  const closeInPlace = (counts: Map<Node, number>) => {
    for (const node of order) {
      const n = counts.get(node);
      if (!n) continue;
      for (const e of edgesFrom(node)) if (e.key === undefined) counts.set(e.to, Math.min(cap, (counts.get(e.to) ?? 0) + n));
    }
    return counts;
  };
  const most = (counts: Map<Node, number>): [Node | undefined, number] => [...counts].reduce<[Node | undefined, number]>((best, entry) => (entry[1] > best[1] ? entry : best), [undefined, 0]);

  let counts = closeInPlace(new Map([[schema, 1]]));
  for (let depth = 0; depth <= maxDepth; depth++) {
    const [node, ways] = most(counts);
    if (node && ways > MAX_WAYS_PER_SUBSCHEMA) {
      return [{ path: pointerOf.get(node) ?? '/', message: `this subschema can apply to one value${depth > 0 ? ` at depth ${depth} of the data` : ''} more than ${MAX_WAYS_PER_SUBSCHEMA} ways over (references to the same definition under several anyOf, oneOf or allOf branches, nested): checking data could take seconds` }];
    }
    if (counts.size === 0) break;
    // One level down. Each subschema's count is the most over the keys the data could have there,
    // which bounds its count under any one key.
    const byKey = new Map<string, Map<Node, number>>();
    const anyKey = new Map<Node, number>();
    for (const [node, n] of counts) {
      for (const e of edgesFrom(node)) {
        if (e.key === undefined) continue;
        const into = e.key === ANY_KEY ? anyKey : (byKey.get(e.key) ?? byKey.set(e.key, new Map()).get(e.key)!);
        into.set(e.to, Math.min(cap, (into.get(e.to) ?? 0) + n));
      }
    }
    const next = new Map(anyKey);
    for (const named of byKey.values()) {
      for (const [node, n] of named) next.set(node, Math.max(next.get(node) ?? 0, Math.min(cap, n + (anyKey.get(node) ?? 0))));
    }
    counts = closeInPlace(next);
  }
  return [];
}
