import type { ResponseFormat } from '../generation/response-format.js';

/**
 * `text_completion` shapes. Streamed chunks and the full body share one shape (OpenAI's legacy
 * API). `echo` text, when asked for, opens each choice.
 */
export function completionFormat(echo?: string): ResponseFormat {
  const head = (ctx: { id: string; created: number; model: string }) => ({ id: ctx.id, object: 'text_completion' as const, created: ctx.created, model: ctx.model });
  const choice = (index: number, text: string, finish_reason: string | null) => ({ index, text, logprobs: null, finish_reason });
  return {
    openingChunks: (ctx) => (echo ? Array.from({ length: ctx.n }, (_, i) => ({ ...head(ctx), choices: [choice(i, echo, null)] })) : []),
    deltaChunk: (ctx, index, text) => ({ ...head(ctx), choices: [choice(index, text, null)] }),
    finishChunk: (ctx, index, finishReason) => ({ ...head(ctx), choices: [choice(index, '', finishReason)] }),
    usageChunk: (ctx, usage) => ({ ...head(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      ...head(ctx),
      choices: choices.map((c) => choice(c.index, (echo ?? '') + c.text, c.finishReason)),
      usage,
    }),
  };
}
