import { completionLogprobs, type LogprobsOptions } from '../generation/logprobs-format.js';
import type { ResponseFormat } from '../generation/response-format.js';

/**
 * `text_completion` shapes. Streamed chunks and the full body share one shape (OpenAI's legacy
 * API). `echo[k]`, when asked for, opens the choices of prompt k: choices are numbered
 * prompt-major, `perPrompt` per prompt.
 */
export function completionFormat(perPrompt: number, echo?: string[], lp?: LogprobsOptions): ResponseFormat {
  const head = (ctx: { id: string; created: number; model: string }) => ({ id: ctx.id, object: 'text_completion' as const, created: ctx.created, model: ctx.model });
  const choice = (index: number, text: string, finish_reason: string | null, logprobs: object | null = null) => ({ index, text, logprobs, finish_reason });
  const echoOf = (index: number) => echo?.[Math.floor(index / perPrompt)] ?? '';
  // Streaming: text_offset continues where the choice's previous chunk ended.
  const offsets = new Map<number, number>();
  return {
    openingChunks: (ctx) => (echo ? Array.from({ length: ctx.n }, (_, i) => ({ ...head(ctx), choices: [choice(i, echoOf(i), null)] })) : []),
    deltaChunk: (ctx, index, text, logprobs) => {
      const start = offsets.get(index) ?? echoOf(index).length;
      offsets.set(index, start + text.length);
      return { ...head(ctx), choices: [choice(index, text, null, lp && logprobs ? completionLogprobs(logprobs, lp, start) : null)] };
    },
    finishChunk: (ctx, index, finishReason) => ({ ...head(ctx), choices: [choice(index, '', finishReason)] }),
    usageChunk: (ctx, usage) => ({ ...head(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      ...head(ctx),
      choices: choices.map((c) => choice(c.index, echoOf(c.index) + c.text, c.finishReason, lp ? completionLogprobs(c.logprobs ?? [], lp, echoOf(c.index).length) : null)),
      usage,
    }),
  };
}
