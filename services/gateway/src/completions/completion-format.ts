import {
  completionLogprobs,
  concatLogprobs,
  promptLogprobs,
  type LogprobsOptions,
} from '../generation/logprobs-format.js';
import type { ResponseFormat } from '../generation/response-format.js';

/** One prompt as echo shows it: its text, and its token ids (what prompt logprobs are about). */
export interface EchoedPrompt {
  text: string;
  ids: number[];
}

/**
 * `text_completion` shapes. Streamed chunks and the full body share one shape (OpenAI's legacy
 * API). `echo[k]`, when asked for, opens the choices of prompt k: choices are numbered
 * prompt-major, `perPrompt` per prompt. With echo and logprobs, the prompt's tokens lead the
 * choice's logprobs (first token's logprob null, as OpenAI and vLLM return it).
 */
export function completionFormat(perPrompt: number, echo?: EchoedPrompt[], lp?: LogprobsOptions): ResponseFormat {
  const head = (ctx: { id: string; created: number; model: string }) => ({
    id: ctx.id,
    object: 'text_completion' as const,
    created: ctx.created,
    model: ctx.model,
  });
  const choice = (index: number, text: string, finish_reason: string | null, logprobs: object | null = null) => ({
    index,
    text,
    logprobs,
    finish_reason,
  });
  const echoOf = (index: number) => echo?.[Math.floor(index / perPrompt)];
  const echoText = (index: number) => echoOf(index)?.text ?? '';
  // With echo + logprobs the echo travels in the prompt's chunk, with its logprobs; a choice whose
  // prompt logprobs never came (a scheduler that does not write them) gets it with its first delta.
  const echoLater = echo !== undefined && lp !== undefined;
  const echoPending = new Set<number>();
  const takeEcho = (index: number) => (echoPending.delete(index) ? echoText(index) : '');
  // Streaming: text_offset continues where the choice's previous chunk ended.
  const offsets = new Map<number, number>();
  return {
    openingChunks: (ctx) => {
      if (!echo) return [];
      if (echoLater) {
        for (let i = 0; i < ctx.n; i++) echoPending.add(i);
        return [];
      }
      return Array.from({ length: ctx.n }, (_, i) => ({ ...head(ctx), choices: [choice(i, echoText(i), null)] }));
    },
    updateChunks: (ctx, u) => {
      if (u.kind === 'prompt') {
        const e = echoOf(u.index);
        if (!e || !lp || !echoPending.has(u.index)) return [];
        return [
          {
            ...head(ctx),
            choices: [choice(u.index, takeEcho(u.index), null, promptLogprobs(e.ids, u.logprobs, lp, e.text.length))],
          },
        ];
      }
      if (u.kind === 'finish') return [{ ...head(ctx), choices: [choice(u.index, takeEcho(u.index), u.finishReason)] }];
      // Text held back with no logprobs to show: nothing to send yet.
      if (!u.text && !(lp && u.logprobs?.length)) return [];
      const start = offsets.get(u.index) ?? echoText(u.index).length;
      offsets.set(u.index, start + u.text.length);
      const logprobs = lp && u.logprobs ? completionLogprobs(u.logprobs, lp, start) : null;
      return [{ ...head(ctx), choices: [choice(u.index, takeEcho(u.index) + u.text, null, logprobs)] }];
    },
    usageChunk: (ctx, usage) => ({ ...head(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      ...head(ctx),
      choices: choices.map((c) => {
        const e = echoOf(c.index);
        const text = echoText(c.index);
        const completion = lp ? completionLogprobs(c.logprobs ?? [], lp, text.length) : null;
        const logprobs =
          lp && e && c.promptLogprobs
            ? concatLogprobs(promptLogprobs(e.ids, c.promptLogprobs, lp, text.length), completion!)
            : completion;
        return choice(c.index, text + c.text, c.finishReason, logprobs);
      }),
      usage,
    }),
  };
}
