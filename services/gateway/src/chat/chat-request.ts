import { z } from 'zod';
import { STRUCTURED_OUTPUT_LIMITS as L } from '@loom/structured-output';
import { ApiError } from '../errors/api-error.js';
import { samplingFields } from '../generation/sampling-request.js';
import { structuredOutputFields } from '../generation/structured-output-request.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const content = z.union([z.string(), z.array(textPart)]);
const name = z.string().nullish();

/** OpenAI's limits on function tools: 128 per request, names of a-z, A-Z, 0-9, `_` and `-`, at most 64. */
export const MAX_TOOLS = 128;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const functionName = z
  .string()
  .regex(FUNCTION_NAME, 'must be 1 to 64 characters of a-z, A-Z, 0-9, underscores and dashes');

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  // arguments: the JSON text the model wrote (chat-prompt.ts parses it for templates that want an object).
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer', 'user']), content, name }),
  z.object({
    role: z.literal('assistant'),
    // null (or absent) for a turn that only called tools.
    content: content.nullish(),
    name,
    tool_calls: z.array(toolCall).nullish(),
    // The turn's reasoning, for templates that replay it (vLLM's field, and its newer name).
    reasoning_content: z.string().nullish(),
    reasoning: z.string().nullish(),
    refusal: z.string().nullish(),
  }),
  z.object({ role: z.literal('tool'), content, tool_call_id: z.string().min(1), name }),
]);

const tool = z.object({
  // Only function tools exist for a local model; 'custom' (free-form input) is refused below.
  type: z.string(),
  function: z.object({
    name: functionName,
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

const namedFunction = z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) });
const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  namedFunction,
  z.object({
    type: z.literal('allowed_tools'),
    allowed_tools: z.object({ mode: z.enum(['auto', 'required']), tools: z.array(namedFunction).min(1) }),
  }),
]);

/** POST /v1/chat/completions body. */
export const chatRequestSchema = z.object({
  ...samplingFields,
  ...structuredOutputFields,
  messages: z.array(message).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  // vLLM's extension: logprobs of the rendered prompt's tokens, with this many alternatives each.
  prompt_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(tool).max(MAX_TOOLS, `at most ${MAX_TOOLS} tools are supported`).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  // vLLM's extensions: variables for the chat template, and whether to return reasoning at all.
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
  include_reasoning: z.boolean().nullish(),
  functions: z.unknown().optional(),
  function_call: z.unknown().optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatRequestMessage = ChatRequest['messages'][number];
export type ChatTool = NonNullable<ChatRequest['tools']>[number];

export function rejectUnsupportedChat(body: ChatRequest): void {
  if (body.top_logprobs != null && !body.logprobs)
    throw ApiError.invalid("'top_logprobs' requires 'logprobs' to be true.", 'top_logprobs');
  for (const p of ['functions', 'function_call'] as const)
    if (body[p] !== undefined && body[p] !== null)
      throw ApiError.unsupported(p, `'${p}' is deprecated and not supported; use 'tools' and 'tool_choice'.`);
  checkTools(body);
}

/** What the request lets the model do with its tools. */
export type ToolMode = { kind: 'none' } | { kind: 'auto' } | { kind: 'required' } | { kind: 'named'; name: string };

/**
 * The tools the model may call and how (OpenAI's semantics): no tools or `none` → no calls; `auto`
 * (the default with tools) → the model decides; `required` → at least one call; a named function →
 * that one. `allowed_tools` narrows the list first.
 */
export function toolPlan(body: Pick<ChatRequest, 'tools' | 'tool_choice'>): { tools: ChatTool[]; mode: ToolMode } {
  const tools = body.tools ?? [];
  const choice = body.tool_choice ?? (tools.length ? 'auto' : 'none');
  if (!tools.length || choice === 'none') return { tools, mode: { kind: 'none' } };
  if (choice === 'auto' || choice === 'required') return { tools, mode: { kind: choice } };
  if (choice.type === 'function') return { tools, mode: { kind: 'named', name: choice.function.name } };
  const allowed = new Set(choice.allowed_tools.tools.map((t) => t.function.name));
  return { tools: tools.filter((t) => allowed.has(t.function.name)), mode: { kind: choice.allowed_tools.mode } };
}

function checkTools(body: ChatRequest): void {
  checkToolList(body.tools ?? [], body.tool_choice, (i) => `tools[${i}].function`);
}

/**
 * Function tools only, names unique, within the documented size limits (the list's JSON, each
 * parameters schema's depth), and a `tool_choice` that names only listed functions. `fieldsAt` spells
 * where a tool's fields are (chat nests them under `function`, Responses does not).
 */
export function checkToolList(
  tools: readonly ChatTool[],
  choice: ChatRequest['tool_choice'],
  fieldsAt: (i: number) => string,
): void {
  const size = tools.length ? JSON.stringify(tools).length : 0;
  if (size > L.maxToolsChars)
    throw ApiError.invalid(`'tools' is ${size} characters of JSON; at most ${L.maxToolsChars}.`, 'tools');
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (t.type !== 'function')
      throw ApiError.unsupported(`tools[${i}].type`, `Tool type '${t.type}' is not supported; only 'function'.`);
    if (names.has(t.function.name))
      throw ApiError.invalid(`Duplicate function name '${t.function.name}' in tools.`, `${fieldsAt(i)}.name`);
    names.add(t.function.name);
    if (deeperThan(t.function.parameters, L.maxSchemaDepth))
      throw ApiError.invalid(
        `The parameters schema nests deeper than ${L.maxSchemaDepth} levels.`,
        `${fieldsAt(i)}.parameters`,
      );
  });
  if (choice == null || choice === 'none' || choice === 'auto') return;
  if (!tools.length) throw ApiError.invalid("'tool_choice' requires 'tools': there is nothing to call.", 'tool_choice');
  const named =
    choice === 'required'
      ? []
      : choice.type === 'function'
        ? [choice.function.name]
        : choice.allowed_tools.tools.map((t) => t.function.name);
  for (const n of named)
    if (!names.has(n)) throw ApiError.invalid(`'tool_choice' names '${n}', which is not in 'tools'.`, 'tool_choice');
}

/** Whether a JSON value nests objects and arrays more than `limit` levels deep (iterative: any depth is safe). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= limit) return true;
    for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return false;
}

/** Alternatives per position the request asks for, or null when it wants no logprobs. */
export function chatLogprobs(body: ChatRequest): number | null {
  return body.logprobs ? (body.top_logprobs ?? 0) : null;
}
