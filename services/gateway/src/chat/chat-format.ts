import type { ResponseFormat } from '../generation/response-format.js';

/** `chat.completion` / `chat.completion.chunk` shapes. */
export function chatFormat(): ResponseFormat {
  const chunkHead = (ctx: { id: string; created: number; model: string }) => ({ id: ctx.id, object: 'chat.completion.chunk' as const, created: ctx.created, model: ctx.model });
  const chunk = (ctx: { id: string; created: number; model: string }, index: number, delta: object, finish_reason: string | null) => ({
    ...chunkHead(ctx),
    choices: [{ index, delta, logprobs: null, finish_reason }],
  });
  return {
    // OpenAI opens every choice with the role and empty content before any token arrives.
    openingChunks: (ctx) => Array.from({ length: ctx.n }, (_, i) => chunk(ctx, i, { role: 'assistant', content: '' }, null)),
    deltaChunk: (ctx, index, text) => chunk(ctx, index, { content: text }, null),
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
        logprobs: null,
        finish_reason: c.finishReason,
      })),
      usage,
    }),
  };
}
