import { chatLogprobContent, type LogprobsOptions } from '../generation/logprobs-format.js';
import type { ResponseFormat } from '../generation/response-format.js';

/** `chat.completion` / `chat.completion.chunk` shapes. */
export function chatFormat(lp?: LogprobsOptions): ResponseFormat {
  const chunkHead = (ctx: { id: string; created: number; model: string }) => ({ id: ctx.id, object: 'chat.completion.chunk' as const, created: ctx.created, model: ctx.model });
  const chunk = (ctx: { id: string; created: number; model: string }, index: number, delta: object, finish_reason: string | null, logprobs: object | null = null) => ({
    ...chunkHead(ctx),
    choices: [{ index, delta, logprobs, finish_reason }],
  });
  return {
    // OpenAI opens every choice with the role and empty content before any token arrives.
    openingChunks: (ctx) => Array.from({ length: ctx.n }, (_, i) => chunk(ctx, i, { role: 'assistant', content: '' }, null)),
    deltaChunk: (ctx, index, text, logprobs) =>
      chunk(ctx, index, { content: text }, null, lp && logprobs ? { content: chatLogprobContent(logprobs, lp), refusal: null } : null),
    finishChunk: (ctx, index, finishReason) => chunk(ctx, index, {}, finishReason),
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
    }),
  };
}
