import { at } from '@loom/common';
import type { StructuredOutputSpec } from '@loom/common';
import { structuredOutputProblem } from '@loom/structured-output';
import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';

const opt = <T extends z.ZodType>(t: T) => t.nullish();
/** A JSON schema as an object, or (vLLM's guided_json) its JSON text. */
const schemaValue = z.union([z.record(z.string(), z.unknown()), z.boolean(), z.string()]);

/** OpenAI's response_format: text, json_object, json_schema (vLLM's structural_tag is refused). */
const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1).max(64),
      description: opt(z.string()),
      schema: opt(z.union([z.record(z.string(), z.unknown()), z.boolean()])),
      strict: opt(z.boolean()),
    }),
  }),
  z.object({ type: z.literal('structural_tag') }).passthrough(),
]);

/**
 * Structured-output request fields accepted on /v1/chat/completions and /v1/completions: OpenAI's
 * `response_format` and vLLM's `guided_*` and `structured_outputs` (its newer spelling of the same).
 */
export const structuredOutputFields = {
  response_format: opt(responseFormat),
  guided_json: opt(schemaValue),
  guided_regex: opt(z.string()),
  guided_choice: opt(z.array(z.string())),
  guided_grammar: opt(z.string()),
  guided_decoding_backend: opt(z.string()),
  guided_whitespace_pattern: opt(z.string()),
  structured_outputs: opt(
    z.object({
      json: opt(schemaValue),
      regex: opt(z.string()),
      choice: opt(z.array(z.string())),
      grammar: opt(z.string()),
      json_object: opt(z.boolean()),
      structural_tag: opt(z.unknown()),
      backend: opt(z.string()),
      whitespace_pattern: opt(z.string()),
      disable_any_whitespace: opt(z.boolean()),
    }),
  ),
};

export type StructuredOutputFields = z.infer<z.ZodObject<typeof structuredOutputFields>>;

/** A spec and the request parameter it came from (what a 400 about it names). */
export interface RequestedStructuredOutput {
  spec: StructuredOutputSpec;
  param: string;
}

/** Backends named in a request: xgrammar is the only one; vLLM's `auto` picks it too. */
const BACKENDS = new Set(['xgrammar', 'auto']);

/**
 * The one structured-output constraint a request asks for, normalised, or undefined. Like vLLM, asking
 * for two kinds at once is a 400; so is a schema that is no JSON, an option Loom does not implement, or
 * a constraint past the documented limits (structuredOutputProblem). Whether it compiles for the model
 * is the GrammarChecker's to say.
 */
export function structuredOutputOf(
  body: StructuredOutputFields,
  /** What a 400 about `response_format` calls it (the Responses API's is `text.format`). */
  formatParam = 'response_format',
): RequestedStructuredOutput | undefined {
  const found: RequestedStructuredOutput[] = [];
  const rf = body.response_format;
  if (rf?.type === 'json_object') found.push({ spec: { type: 'json_object' }, param: formatParam });
  else if (rf?.type === 'json_schema') {
    const s = rf.json_schema.schema;
    // OpenAI lets the schema be left out; then any JSON object will do.
    found.push({
      spec:
        s == null
          ? { type: 'json_object' }
          : { type: 'json_schema', schema: JSON.stringify(s), strict: rf.json_schema.strict ?? false },
      param: formatParam,
    });
  } else if (rf?.type === 'structural_tag')
    throw ApiError.unsupported('response_format', "'response_format' type 'structural_tag' is not supported.");

  const so = body.structured_outputs;
  const vllm: [string, unknown, (v: never) => StructuredOutputSpec][] = [
    ['guided_json', body.guided_json, (v: unknown) => jsonSpec(v, 'guided_json')],
    ['guided_regex', body.guided_regex, (v: string) => ({ type: 'regex', pattern: v })],
    ['guided_choice', body.guided_choice, (v: string[]) => ({ type: 'choice', choices: v })],
    ['guided_grammar', body.guided_grammar, (v: string) => ({ type: 'grammar', grammar: v })],
    ['structured_outputs.json', so?.json, (v: unknown) => jsonSpec(v, 'structured_outputs.json')],
    ['structured_outputs.regex', so?.regex, (v: string) => ({ type: 'regex', pattern: v })],
    ['structured_outputs.choice', so?.choice, (v: string[]) => ({ type: 'choice', choices: v })],
    ['structured_outputs.grammar', so?.grammar, (v: string) => ({ type: 'grammar', grammar: v })],
    ['structured_outputs.json_object', so?.json_object || undefined, () => ({ type: 'json_object' })],
  ];
  for (const [param, value, make] of vllm) if (value != null) found.push({ spec: make(value as never), param });
  // vLLM's per-request switch; false asks for its default, any whitespace between JSON tokens.
  if (so?.disable_any_whitespace === false)
    for (const f of found)
      if (f.spec.type === 'json_schema' || f.spec.type === 'json_object') f.spec.anyWhitespace = true;

  for (const [param, value] of [
    ['guided_whitespace_pattern', body.guided_whitespace_pattern],
    ['structured_outputs.whitespace_pattern', so?.whitespace_pattern],
    ['structured_outputs.structural_tag', so?.structural_tag],
  ] as const) {
    if (value != null) throw ApiError.unsupported(param, `'${param}' is not supported.`);
  }
  for (const [param, value] of [
    ['guided_decoding_backend', body.guided_decoding_backend],
    ['structured_outputs.backend', so?.backend],
  ] as const) {
    if (value != null && !BACKENDS.has(value))
      throw ApiError.invalid(`'${param}' must be 'xgrammar' (or 'auto'); Loom has no other backend.`, param);
  }

  if (found.length === 0) return undefined;
  if (found.length > 1)
    throw ApiError.invalid(
      `Only one kind of structured output may be asked for; got '${at(found, 0).param}' and '${at(found, 1).param}'.`,
      at(found, 1).param,
    );
  const r = at(found, 0);
  const problem = structuredOutputProblem(r.spec);
  if (problem) throw ApiError.invalid(`Invalid '${r.param}': ${describe(r.spec)} ${problem}.`, r.param);
  return r;
}

/** guided_json / structured_outputs.json: a schema object, or its JSON text (vLLM takes both). */
function jsonSpec(value: unknown, param: string): StructuredOutputSpec {
  let schema = value;
  if (typeof value === 'string') {
    try {
      schema = JSON.parse(value) as unknown;
    } catch (e) {
      throw ApiError.invalid(`Invalid '${param}': the schema is not valid JSON: ${(e as Error).message}.`, param);
    }
  }
  // vLLM compiles these in xgrammar's strict mode (no properties beyond the schema's): so does Loom.
  return { type: 'json_schema', schema: JSON.stringify(schema), strict: true };
}

function describe(spec: StructuredOutputSpec): string {
  switch (spec.type) {
    case 'json_schema':
    case 'json_object':
      return 'the schema';
    case 'regex':
      return 'the pattern';
    case 'choice':
      return 'the list';
    case 'grammar':
      return 'the grammar';
  }
}
