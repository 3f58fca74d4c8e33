/**
 * How deep a JSON document nests. Event data is serialized with JSON.stringify (to store it, and
 * again to render each delivery), which recurses: a body of a few KB nested thousands of levels
 * deep would throw a RangeError there. The API refuses such documents up front instead.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests more than `max` objects or arrays. Iterative, so any depth is safe to check. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
