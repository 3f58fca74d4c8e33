/**
 * Event-type JSON Schemas (PRODUCT.md §2): compiling the schema an admin gives an event type, and
 * checking event data against it.
 *
 * - Drafts 2020-12 (also when `$schema` is absent), 2019-09 and 07, chosen by `$schema`.
 * - `format` is checked (date-time, email, uri, uuid, …). Keywords Ajv does not know are
 *   ignored, as schemas exported from other tools carry their own (`example`, `x-…`).
 * - References resolve inside the schema only: nothing is ever fetched.
 *
 * - `pattern` and `patternProperties` run on RE2 (re2js), in time linear in the data: event data
 *   comes from application keys, and with JavaScript's backtracking engine a pattern such as
 *   `^(a+)+$` let 30 characters hold the event loop for seconds (ReDoS). RE2 has no lookaround
 *   and no backreferences: a schema that uses them is refused when it is stored.
 *
 * Schemas come from the admin key, so they are trusted as configuration is; their depth is capped
 * at the API's edge.
 */
import Ajv, { type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { RE2JS } from 're2js';

export interface SchemaIssue {
  /** JSON Pointer to the offending value (`""` is the whole document). */
  path: string;
  message: string;
}

/**
 * The issues with `data`; none when it satisfies the schema. Only the first issue unless
 * `allIssues`: collecting every issue of a large payload costs time and memory (Ajv builds them
 * all before any are dropped), so callers ask for them only for small documents.
 */
export type DataCheck = (data: unknown, opts?: { allIssues?: boolean }) => SchemaIssue[];

/** The schema itself is not one this module can compile; `issues` says where. */
export class SchemaProblem extends Error {
  constructor(
    message: string,
    readonly issues: SchemaIssue[] = [],
  ) {
    super(message);
  }
}

/** The `$id` a schema without one is compiled under (each schema has Ajv instances of its own). */
const ANONYMOUS_SCHEMA_ID = 'https://hookline.invalid/event-type-schema';

/** At most this many issues are reported: enough to fix a payload, bounded for a huge one. */
export const MAX_ISSUES = 20;

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
const DRAFT_2019 = 'https://json-schema.org/draft/2019-09/schema';
const DRAFT_07 = 'http://json-schema.org/draft-07/schema';
const AJV_BY_DRAFT = { [DRAFT_2020]: Ajv2020, [DRAFT_2019]: Ajv2019, [DRAFT_07]: Ajv } as const;
type Draft = keyof typeof AJV_BY_DRAFT;

/** `$schema` without a trailing `#` or an `http`/`https` difference names the same draft. */
function draftOf(schema: AnySchemaObject): Draft | undefined {
  const declared = schema.$schema;
  if (declared === undefined) return DRAFT_2020;
  if (typeof declared !== 'string') return undefined;
  const canonical = declared.replace(/#$/, '').replace(/^http:\/\/json-schema\.org\/draft\/(2019|2020)/, 'https://json-schema.org/draft/$1').replace(/^https:\/\/json-schema\.org\/draft-07/, 'http://json-schema.org/draft-07');
  return (Object.keys(AJV_BY_DRAFT) as Draft[]).find((d) => d === canonical);
}

/**
 * Ajv's regular-expression engine, on RE2: `test` searches, as `RegExp.prototype.test` does.
 * `toString` must name the pattern: Ajv keys its cache of compiled patterns by it, and with the
 * default `[object Object]` every pattern would get the first one compiled.
 */
const re2: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = RE2JS.compile(pattern);
    return { test: (s: string) => re.matcher(s).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 're2js' },
);

function newAjv(draft: Draft, options: { allErrors: boolean; validateSchema: boolean }): Ajv {
  // logger: false, or every compile of an unknown `format` would print a warning.
  const ajv = new AJV_BY_DRAFT[draft]({ strict: false, logger: false, addUsedSchema: false, validateFormats: true, code: { regExp: re2 }, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * One per draft, only ever asked whether a schema satisfies the draft's meta-schema: no user
 * schema is added to it, so none can shadow the meta-schema (a user `$id` naming it) or pile up.
 */
const metaValidators = new Map<Draft, Ajv>();
function metaValidator(draft: Draft): Ajv {
  let ajv = metaValidators.get(draft);
  if (!ajv) metaValidators.set(draft, (ajv = newAjv(draft, { allErrors: true, validateSchema: true })));
  return ajv;
}

function issuesOf(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).slice(0, MAX_ISSUES).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` ("${String((e.params as { additionalProperty: string }).additionalProperty)}")` : '';
    return { path: e.instancePath, message: `${e.message ?? 'is invalid'}${extra}` };
  });
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The most items a `uniqueItems` array of objects or arrays may be given (`maxItems`). Ajv checks
 * such arrays by comparing every pair: 21,000 small objects (241 KB of data) held the event loop
 * for 19.5 s, and 1,000 took 20 ms. At 100 a payload of many such arrays stays near 0.1 s. Items
 * typed as strings, numbers, booleans or null are checked by a hash instead.
 */
export const MAX_UNIQUE_ITEMS = 100;

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
/** Keywords whose value is data (or names mapped to subschemas), not a schema whose keywords count. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);
const MAP_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);

/** Where `schema` asks for `uniqueItems` over unbounded arrays of non-scalar items (JSON Pointers). */
function unboundedUniqueItems(node: unknown, path: string, isMap = false): SchemaIssue[] {
  if (typeof node !== 'object' || node === null) return [];
  const found: SchemaIssue[] = [];
  if (!isMap && !Array.isArray(node)) {
    const { uniqueItems, maxItems, items } = node as Record<string, unknown>;
    const itemType = typeof items === 'object' && items !== null ? (items as Record<string, unknown>).type : undefined;
    const scalar = [itemType].flat().every((t) => typeof t === 'string' && SCALAR_TYPES.has(t));
    const bounded = typeof maxItems === 'number' && maxItems <= MAX_UNIQUE_ITEMS;
    if (uniqueItems === true && !scalar && !bounded) found.push({ path: path === '' ? '/' : path, message: `uniqueItems needs maxItems ≤ ${MAX_UNIQUE_ITEMS}, or items typed as scalars` });
  }
  for (const [key, value] of Object.entries(node)) {
    if (!isMap && DATA_KEYWORDS.has(key)) continue;
    found.push(...unboundedUniqueItems(value, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, !isMap && MAP_KEYWORDS.has(key)));
  }
  return found.slice(0, MAX_ISSUES);
}

/**
 * Compiles `schema` or throws `SchemaProblem`. Each schema is compiled by Ajv instances of its
 * own (about 1.5 ms each): its `$id`s meet no other schema's, and everything compiled is freed
 * with the check. Callers that compile the same schema again should keep the check instead.
 */
export function compileSchema(schema: unknown): DataCheck {
  if (typeof schema === 'boolean') return schema ? () => [] : () => [{ path: '', message: 'no data satisfies this schema (false)' }];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new SchemaProblem('A JSON Schema is an object or a boolean');
  const declared = schema as AnySchemaObject;
  const draft = draftOf(declared);
  if (draft === undefined) throw new SchemaProblem(`Unsupported $schema; use ${DRAFT_2020} (the default), ${DRAFT_2019} or ${DRAFT_07}`);
  // Ajv finds the meta-schema by `$schema` as written: give it the spelling it knows.
  const canonical: AnySchemaObject = declared.$schema === undefined ? declared : { ...declared, $schema: draft };
  const meta = metaValidator(draft);
  let valid: boolean;
  try {
    valid = meta.validateSchema(canonical) as boolean;
  } catch (err) {
    throw new SchemaProblem(`The schema cannot be checked: ${messageOf(err)}`);
  }
  if (!valid) throw new SchemaProblem("The schema does not satisfy its draft's meta-schema", issuesOf(meta.errors));
  const pairwise = unboundedUniqueItems(canonical, '');
  if (pairwise.length > 0) throw new SchemaProblem(`uniqueItems on items that are not all strings, numbers, booleans or null needs a maxItems of at most ${MAX_UNIQUE_ITEMS}: checking it compares every pair of items`, pairwise);
  // Ajv resolves `{"$ref": "#"}` (the usual recursive schema) only in a schema with an `$id`.
  const identified = canonical.$id === undefined ? { ...canonical, $id: ANONYMOUS_SCHEMA_ID } : canonical;
  let first: ValidateFunction;
  let all: ValidateFunction;
  try {
    first = newAjv(draft, { allErrors: false, validateSchema: false }).compile(identified);
    all = newAjv(draft, { allErrors: true, validateSchema: false }).compile(identified);
  } catch (err) {
    throw new SchemaProblem(`The schema cannot be compiled: ${messageOf(err)}`);
  }
  return (data, opts) => {
    try {
      if (first(data)) return [];
      if (!opts?.allIssues) return issuesOf(first.errors);
      all(data);
      return issuesOf(all.errors);
    } catch (err) {
      // The schema, not the data, is at fault: a reference cycle that never moves into the data
      // overflows the stack. Callers refuse such a schema, or accept the event unchecked.
      throw new SchemaProblem(`The schema cannot be applied: ${messageOf(err)}`);
    }
  };
}
