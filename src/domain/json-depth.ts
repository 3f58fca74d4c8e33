/**
 * Limits on a JSON document the API takes (event data, examples, schemas).
 *
 * - Nesting: data is serialized with JSON.stringify (to store it, and again to render each
 *   delivery), which recurses: a body of a few KB nested thousands of levels deep would throw a
 *   RangeError there.
 * - Numbers past a double's range (`1e999`): JSON.parse makes them ±Infinity, so a type's schema
 *   checks another value than the one stored, and receivers disagree (JavaScript and Python read
 *   infinity, Go's encoding/json refuses the whole body). Numbers within range keep every digit
 *   as written (raw-json.ts), so only the overflow is refused.
 */
export const MAX_JSON_DEPTH = 64;

/** Why `value` (as JSON.parse built it) is refused, or undefined. Iterative, so any depth is safe to check. */
export function jsonDocumentProblem(value: unknown, maxDepth: number): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'number' && !Number.isFinite(node)) return "must not hold a number past a double's range (such as 1e999)";
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return `must not nest deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return undefined;
}
