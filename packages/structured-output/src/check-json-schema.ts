import { FORMAT_PATTERNS, XGRAMMAR_FORMATS } from './format-patterns.js';
import { jsonUnsafePatternReason } from './json-safe-pattern.js';
import { STRUCTURED_OUTPUT_LIMITS } from './limits.js';

/**
 * JSON Schema keywords that constrain values but that xgrammar 0.1.27 does not enforce: it compiles a
 * schema using them into a grammar that ignores them (measured: `not`, `if`, `uniqueItems`, `multipleOf`,
 * several `allOf` branches, `dependentRequired` all come out as if absent), so output could fail
 * validation. vLLM rejects most of these for its xgrammar backend too; OpenAI's strict mode supports
 * none of them except multipleOf.
 */
const UNENFORCED = new Set([
  'not',
  'if',
  'then',
  'else',
  'oneOf',
  'multipleOf',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'minProperties',
  'maxProperties',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'patternProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'additionalItems',
]);

/**
 * String formats Loom enforces exactly (format-patterns.ts); xgrammar ignores others silently, and its
 * own grammar for some of these lets invalid values through.
 */
export const SUPPORTED_FORMATS: ReadonlySet<string> = new Set([...Object.keys(FORMAT_PATTERNS), ...XGRAMMAR_FORMATS]);

/** Keywords whose value is one subschema / a map of them / a list of them. */
const SUB_ONE = ['additionalProperties', 'items'];
const SUB_MAP = ['properties', '$defs', 'definitions'];
const SUB_LIST = ['anyOf', 'allOf', 'prefixItems'];

/** Where a problem is, as a JSON pointer into the schema ('' = the root). */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

/**
 * The first reason `schema` cannot be enforced exactly, or null. Checks shape (an object or boolean at
 * every schema position), nesting depth, keywords xgrammar ignores, formats it lacks, local-only $ref,
 * and constructs this xgrammar build gets wrong (number bounds, patterns that may need JSON escapes, a
 * pattern or format with length bounds).
 */
export function checkJsonSchema(schema: unknown): SchemaProblem | null {
  return visit(schema, '', 0);
}

function visit(s: unknown, at: string, depth: number): SchemaProblem | null {
  if (depth > STRUCTURED_OUTPUT_LIMITS.maxSchemaDepth)
    return { pointer: at, message: `nests deeper than ${STRUCTURED_OUTPUT_LIMITS.maxSchemaDepth} levels` };
  if (typeof s === 'boolean') return null;
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    return { pointer: at, message: 'is not a schema (an object or a boolean)' };
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (UNENFORCED.has(k)) return { pointer: `${at}/${k}`, message: `'${k}' is not supported in structured outputs` };
  }
  if (Array.isArray(o.allOf) && o.allOf.length > 1)
    return { pointer: `${at}/allOf`, message: "'allOf' with more than one schema is not supported" };
  if (Array.isArray(o.items))
    return {
      pointer: `${at}/items`,
      message: "'items' as a list (draft-07 tuples) is not supported; use 'prefixItems'",
    };
  if (typeof o.$ref === 'string' && !o.$ref.startsWith('#'))
    return { pointer: `${at}/$ref`, message: 'only local references (#/...) are supported' };
  const types = typeof o.type === 'string' ? [o.type] : Array.isArray(o.type) ? o.type : [];
  if (typeof o.format === 'string' && !SUPPORTED_FORMATS.has(o.format))
    return { pointer: `${at}/format`, message: `format '${o.format}' is not supported` };
  const pattern = typeof o.pattern === 'string';
  const format = typeof o.format === 'string';
  if ((pattern || format) && (o.minLength !== undefined || o.maxLength !== undefined))
    return {
      pointer: at,
      message: "'pattern' or 'format' together with 'minLength' / 'maxLength' is not supported",
    };
  // xgrammar takes the format and drops the pattern.
  if (pattern && format) return { pointer: at, message: "'pattern' together with 'format' is not supported" };
  if (typeof o.pattern === 'string') {
    const why = jsonUnsafePatternReason(o.pattern);
    if (why) return { pointer: `${at}/pattern`, message: `'pattern' is not supported: ${why}` };
  }
  // xgrammar 0.1.27 writes the decimal point of a non-integer bound unescaped into its range regex.
  const bounded = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].filter((k) => o[k] !== undefined);
  if (bounded.length > 0 && !(types.length > 0 && types.every((t) => t === 'integer')))
    return { pointer: `${at}/${bounded[0]}`, message: 'numeric bounds are supported on integers only' };
  for (const k of SUB_ONE) {
    if (o[k] !== undefined) {
      const p = visit(o[k], `${at}/${k}`, depth + 1);
      if (p) return p;
    }
  }
  for (const k of SUB_MAP) {
    const m = o[k];
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      return { pointer: `${at}/${k}`, message: `'${k}' must be an object of schemas` };
    for (const [name, sub] of Object.entries(m)) {
      const p = visit(sub, `${at}/${k}/${escapePointer(name)}`, depth + 1);
      if (p) return p;
    }
  }
  for (const k of SUB_LIST) {
    const l = o[k];
    if (l === undefined) continue;
    if (!Array.isArray(l) || l.length === 0)
      return { pointer: `${at}/${k}`, message: `'${k}' must be a non-empty list of schemas` };
    for (let i = 0; i < l.length; i++) {
      const p = visit(l[i], `${at}/${k}/${i}`, depth + 1);
      if (p) return p;
    }
  }
  return null;
}

function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}
