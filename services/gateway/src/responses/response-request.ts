import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { samplingFields } from '../generation/sampling-request.js';
import { MAX_TOOLS } from '../chat/chat-request.js';

const opt = <T extends z.ZodType>(t: T) => t.nullish();

/**
 * One input item as it arrives: its `type` (absent: a message) decides the schema it is read with
 * (response-items.ts), so a bad item is a 400 naming `input[i]`'s own field rather than a union's.
 */
const inputItem = z.looseObject({ type: z.string().optional() });

/** A function tool, flat as the Responses API spells it (chat nests it under `function`). */
const tool = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  description: opt(z.string()),
  parameters: opt(z.record(z.string(), z.unknown())),
  strict: opt(z.boolean()),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string() }),
  z.object({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.object({ type: z.literal('function'), name: z.string() })).min(1),
  }),
  // Hosted tools' choices ({type: 'web_search_preview'}, mcp, custom...): refused by name below.
  z.looseObject({ type: z.string() }),
]);

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    description: opt(z.string()),
    schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]),
    strict: opt(z.boolean()),
  }),
]);

const { n: _n, stream_options: _so, ...sampling } = samplingFields;

/** POST /v1/responses body: OpenAI's fields, plus vLLM's sampling extensions (top_k, min_p, seed, ...). */
export const responseRequestSchema = z.object({
  ...sampling,
  input: z.union([z.string(), z.array(inputItem)]),
  instructions: opt(z.string()),
  max_output_tokens: opt(z.number().int().min(1)),
  previous_response_id: opt(z.string().min(1)),
  store: opt(z.boolean()),
  metadata: opt(z.record(z.string().max(64), z.string().max(512))),
  text: opt(z.object({ format: opt(textFormat), verbosity: opt(z.string()) })),
  tools: opt(z.array(tool).max(MAX_TOOLS, `at most ${MAX_TOOLS} tools are supported`)),
  tool_choice: opt(toolChoice),
  parallel_tool_calls: opt(z.boolean()),
  reasoning: opt(
    z.object({
      effort: opt(z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])),
      summary: opt(z.enum(['auto', 'concise', 'detailed'])),
      generate_summary: opt(z.enum(['auto', 'concise', 'detailed'])),
    }),
  ),
  truncation: opt(z.enum(['auto', 'disabled'])),
  // Stream obfuscation pads events against side channels on OpenAI's network; nothing to hide locally.
  stream_options: opt(z.object({ include_obfuscation: opt(z.boolean()) })),
  prompt_cache_key: opt(z.string().min(1).max(256)),
  safety_identifier: opt(z.string()),
  service_tier: opt(z.string()),
  // vLLM's extensions, as on chat.
  chat_template_kwargs: opt(z.record(z.string(), z.unknown())),
  include_reasoning: opt(z.boolean()),
  // Refused below when set (OpenAI-hosted features Loom does not have).
  background: opt(z.boolean()),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  include: opt(z.array(z.string())),
  top_logprobs: opt(z.number().int().min(0).max(20)),
  max_tool_calls: opt(z.number().int().min(1)),
  context_management: z.unknown().optional(),
});

export type ResponseRequest = z.infer<typeof responseRequestSchema>;
export type ResponseTool = NonNullable<ResponseRequest['tools']>[number];

/** Tool types OpenAI hosts (web search, file search, code interpreter, ...): a clear 400, never ignored. */
export function rejectUnsupportedResponse(body: ResponseRequest): void {
  if (body.background) throw ApiError.unsupported('background', "'background' responses are not supported.");
  for (const p of ['conversation', 'prompt', 'context_management'] as const)
    if (body[p] != null) throw ApiError.unsupported(p, `'${p}' is not supported; send the input itself.`);
  if (body.include?.length)
    throw ApiError.unsupported('include', `'include' values are not supported: ${body.include.join(', ')}.`);
  if (body.top_logprobs) throw ApiError.unsupported('top_logprobs', "'top_logprobs' is not supported on responses.");
  if (body.truncation === 'auto')
    throw ApiError.unsupported('truncation', "'truncation: auto' is not supported; the input must fit the context.");
  body.tools?.forEach((t, i) => {
    if (t.type !== 'function')
      throw ApiError.unsupported(
        `tools[${i}].type`,
        `Tool type '${t.type}' is not supported; only 'function' (OpenAI's hosted tools do not exist here).`,
      );
  });
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object' && choice.type !== 'function' && choice.type !== 'allowed_tools')
    throw ApiError.unsupported('tool_choice', `'tool_choice' type '${choice.type}' is not supported.`);
}
