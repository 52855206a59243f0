import { chatLogprobContent, vllmPromptLogprobs, type LogprobsOptions } from '../generation/logprobs-format.js';
import type { ResponseFormat } from '../generation/response-format.js';

/**
 * `chat.completion` / `chat.completion.chunk` shapes. With `promptLp` (vLLM's prompt_logprobs) the
 * rendered prompt's logprobs go in a top-level `prompt_logprobs`, as vLLM sends them: in the body,
 * or in one chunk with no choices before the first token (the same for every choice: index 0's).
 */
export function chatFormat(lp?: LogprobsOptions, promptLp?: LogprobsOptions): ResponseFormat {
  const chunkHead = (ctx: { id: string; created: number; model: string }) => ({
    id: ctx.id,
    object: 'chat.completion.chunk' as const,
    created: ctx.created,
    model: ctx.model,
  });
  const chunk = (
    ctx: { id: string; created: number; model: string },
    index: number,
    delta: object,
    finish_reason: string | null,
    logprobs: object | null = null,
  ) => ({
    ...chunkHead(ctx),
    choices: [{ index, delta, logprobs, finish_reason }],
  });
  return {
    // OpenAI opens every choice with the role and empty content before any token arrives.
    openingChunks: (ctx) =>
      Array.from({ length: ctx.n }, (_, i) => chunk(ctx, i, { role: 'assistant', content: '' }, null)),
    deltaChunk: (ctx, index, text, logprobs) =>
      chunk(
        ctx,
        index,
        { content: text },
        null,
        lp && logprobs ? { content: chatLogprobContent(logprobs, lp), refusal: null } : null,
      ),
    finishChunk: (ctx, index, finishReason) => chunk(ctx, index, {}, finishReason),
    promptChunk: (ctx, index, logprobs) =>
      promptLp && index === 0
        ? { ...chunkHead(ctx), choices: [], prompt_logprobs: vllmPromptLogprobs(logprobs, promptLp) }
        : null,
    usageChunk: (ctx, usage) => ({ ...chunkHead(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: choices.map((c) => ({
        index: c.index,
        message: { role: 'assistant', content: c.text, refusal: null },
        logprobs: lp ? { content: chatLogprobContent(c.logprobs ?? [], lp), refusal: null } : null,
        finish_reason: c.finishReason,
      })),
      usage,
      ...(promptLp
        ? {
            prompt_logprobs: choices[0]?.promptLogprobs
              ? vllmPromptLogprobs(choices[0].promptLogprobs, promptLp)
              : null,
          }
        : {}),
    }),
  };
}
