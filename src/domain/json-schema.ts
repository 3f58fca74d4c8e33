/**
 * Event-type JSON Schemas (PRODUCT.md §2): compiling the schema an admin gives an event type, and
 * checking event data against it.
 *
 * - Drafts 2020-12 (also when `$schema` is absent), 2019-09 and 07, chosen by `$schema`.
 * - `format` is checked (date-time, email, uri, uuid, …). Keywords Ajv does not know are
 *   ignored, as schemas exported from other tools carry their own (`example`, `x-…`).
 * - References resolve inside the schema only: nothing is ever fetched.
 *
 * Schemas come from the admin key, so they are trusted as configuration is (Ajv's model: a
 * schema's `pattern` runs as a regular expression); their depth is capped at the API's edge.
 */
import Ajv, { type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export interface SchemaIssue {
  /** JSON Pointer to the offending value (`""` is the whole document). */
  path: string;
  message: string;
}

/** The issues with `data`; none when it satisfies the schema. */
export type DataCheck = (data: unknown) => SchemaIssue[];

/** The schema itself is not one this module can compile; `issues` says where. */
export class SchemaProblem extends Error {
  constructor(
    message: string,
    readonly issues: SchemaIssue[] = [],
  ) {
    super(message);
  }
}

/** At most this many issues are reported: enough to fix a payload, bounded for a huge one. */
export const MAX_ISSUES = 20;

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
const DRAFT_2019 = 'https://json-schema.org/draft/2019-09/schema';
const DRAFT_07 = 'http://json-schema.org/draft-07/schema';

/** `$schema` without a trailing `#` or an `http`/`https` difference names the same draft. */
function draftOf(schema: AnySchemaObject): string | undefined {
  const declared = schema.$schema;
  if (declared === undefined) return DRAFT_2020;
  if (typeof declared !== 'string') return undefined;
  const canonical = declared.replace(/#$/, '').replace(/^http:\/\/json-schema\.org\/draft\/(2019|2020)/, 'https://json-schema.org/draft/$1').replace(/^https:\/\/json-schema\.org\/draft-07/, 'http://json-schema.org/draft-07');
  return [DRAFT_2020, DRAFT_2019, DRAFT_07].find((d) => d === canonical);
}

const validators = new Map<string, Ajv>();
function validatorFor(draft: string): Ajv {
  let ajv = validators.get(draft);
  if (!ajv) {
    const options = { strict: false, allErrors: true, addUsedSchema: false, validateFormats: true };
    ajv = draft === DRAFT_2020 ? new Ajv2020(options) : draft === DRAFT_2019 ? new Ajv2019(options) : new Ajv(options);
    addFormats(ajv);
    validators.set(draft, ajv);
  }
  return ajv;
}

function issuesOf(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).slice(0, MAX_ISSUES).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` ("${String((e.params as { additionalProperty: string }).additionalProperty)}")` : '';
    return { path: e.instancePath, message: `${e.message ?? 'is invalid'}${extra}` };
  });
}

/** Compiles `schema` or throws `SchemaProblem`. The result is pure: it keeps no state between calls. */
export function compileSchema(schema: unknown): DataCheck {
  if (typeof schema === 'boolean') return schema ? () => [] : () => [{ path: '', message: 'no data satisfies this schema (false)' }];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new SchemaProblem('A JSON Schema is an object or a boolean');
  const draft = draftOf(schema);
  if (draft === undefined) throw new SchemaProblem(`Unsupported $schema; use ${DRAFT_2020} (the default), ${DRAFT_2019} or ${DRAFT_07}`);
  const ajv = validatorFor(draft);
  if (!(ajv.validateSchema(schema) as boolean)) throw new SchemaProblem('The schema does not satisfy its draft\'s meta-schema', issuesOf(ajv.errors));
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as AnySchemaObject);
  } catch (err) {
    throw new SchemaProblem(`The schema cannot be compiled: ${(err as Error).message}`);
  } finally {
    // Ajv caches every schema it compiled, by object: without this, each compile would stay in memory.
    ajv.removeSchema(schema);
  }
  return (data) => (validate(data) ? [] : issuesOf(validate.errors));
}
