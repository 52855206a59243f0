import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { samplingFields } from '../generation/sampling-request.js';
import type { ChatMessage } from '../tokenizer/model-tokenizers.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  // null is legal for an assistant turn that only carried tool calls.
  content: z.union([z.string(), z.array(textPart), z.null()]),
  name: z.string().nullish(),
});

/** POST /v1/chat/completions body. */
export const chatRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(message).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  // vLLM's extension: logprobs of the rendered prompt's tokens, with this many alternatives each.
  prompt_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(z.unknown()).nullish(),
  response_format: z.object({ type: z.string() }).nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

export function rejectUnsupportedChat(body: ChatRequest): void {
  if (body.top_logprobs != null && !body.logprobs)
    throw ApiError.invalid("'top_logprobs' requires 'logprobs' to be true.", 'top_logprobs');
  if (body.tools?.length) throw ApiError.unsupported('tools', "'tools' (function calling) is not supported yet.");
  if (body.response_format && body.response_format.type !== 'text') {
    throw ApiError.unsupported(
      'response_format',
      `'response_format' type '${body.response_format.type}' is not supported; only 'text'.`,
    );
  }
}

/** Alternatives per position the request asks for, or null when it wants no logprobs. */
export function chatLogprobs(body: ChatRequest): number | null {
  return body.logprobs ? (body.top_logprobs ?? 0) : null;
}

/**
 * Messages as the chat template expects them: content parts joined, `developer` treated as
 * `system` (model templates predate the developer role).
 */
export function templateMessages(body: ChatRequest): ChatMessage[] {
  return body.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content:
      m.content === null ? '' : typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}
