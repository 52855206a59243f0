import { completionLogprobs, type LogprobsOptions } from '../generation/logprobs-format.js';
import type { ResponseFormat } from '../generation/response-format.js';

/**
 * `text_completion` shapes. Streamed chunks and the full body share one shape (OpenAI's legacy
 * API). `echo` text, when asked for, opens each choice.
 */
export function completionFormat(echo?: string, lp?: LogprobsOptions): ResponseFormat {
  const head = (ctx: { id: string; created: number; model: string }) => ({ id: ctx.id, object: 'text_completion' as const, created: ctx.created, model: ctx.model });
  const choice = (index: number, text: string, finish_reason: string | null, logprobs: object | null = null) => ({ index, text, logprobs, finish_reason });
  // Streaming: text_offset continues where the choice's previous chunk ended.
  const offsets = new Map<number, number>();
  return {
    openingChunks: (ctx) => (echo ? Array.from({ length: ctx.n }, (_, i) => ({ ...head(ctx), choices: [choice(i, echo, null)] })) : []),
    deltaChunk: (ctx, index, text, logprobs) => {
      const start = offsets.get(index) ?? echo?.length ?? 0;
      offsets.set(index, start + text.length);
      return { ...head(ctx), choices: [choice(index, text, null, lp && logprobs ? completionLogprobs(logprobs, lp, start) : null)] };
    },
    finishChunk: (ctx, index, finishReason) => ({ ...head(ctx), choices: [choice(index, '', finishReason)] }),
    usageChunk: (ctx, usage) => ({ ...head(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      ...head(ctx),
      choices: choices.map((c) => choice(c.index, (echo ?? '') + c.text, c.finishReason, lp ? completionLogprobs(c.logprobs ?? [], lp, echo?.length ?? 0) : null)),
      usage,
    }),
  };
}
