import type { TokenLogprob } from '@loom/common';
import type { ChatDelta, OutputParser } from '../chat-output/chat-delta.js';
import { MessageAccumulator } from '../chat-output/message-accumulator.js';
import { chatLogprobContent, vllmPromptLogprobs, type LogprobsOptions } from '../generation/logprobs-format.js';
import type { ApiFinishReason, ResponseContext, ResponseFormat } from '../generation/response-format.js';

/** How a request's output becomes an assistant message (absent: the text is the content, as it comes). */
export interface ChatOutputOptions {
  /** One choice's output parser (tool calls, reasoning). */
  parser: () => OutputParser;
  /** vLLM's include_reasoning: false leaves reasoning out of the response (it is still counted). */
  includeReasoning: boolean;
  /** An id for a call the model gave none (OpenAI's `call_…`; nine characters for Mistral). */
  newCallId: () => string;
  /** OpenAI's parallel_tool_calls: false keeps a choice's first call only (as vLLM does). */
  parallelToolCalls: boolean;
}

/** One choice's parsing state. */
interface ChoiceState {
  parser: OutputParser;
  message: MessageAccumulator;
  ids: string[];
  reasoningTokens: number;
  /** Tokens whose text is still held back: they count with the pieces they turn into. */
  pendingTokens: number;
}

type Head = Pick<ResponseContext, 'id' | 'created' | 'model'>;

/**
 * `chat.completion` / `chat.completion.chunk` shapes. With `promptLp` (vLLM's prompt_logprobs) the
 * rendered prompt's logprobs go in a top-level `prompt_logprobs`, as vLLM sends them: in the body,
 * or in one chunk with no choices before the first token (the same for every choice: index 0's).
 *
 * With `output`, each choice's text goes through its output parser: content, reasoning (as
 * `reasoning_content`, vLLM's and DeepSeek's field, and `reasoning`, its newer name) and `tool_calls` deltas as
 * OpenAI streams them (a call's id, type and name first,
 * then `function.arguments` pieces), `finish_reason: 'tool_calls'` when a choice that called tools
 * stopped by itself. The body is the same parse, so it equals the stream accumulated.
 */
export function chatFormat(
  lp?: LogprobsOptions,
  promptLp?: LogprobsOptions,
  output?: ChatOutputOptions,
): ResponseFormat {
  const chunkHead = (ctx: Head) => ({
    id: ctx.id,
    object: 'chat.completion.chunk' as const,
    created: ctx.created,
    model: ctx.model,
  });
  const chunk = (
    ctx: Head,
    index: number,
    delta: object,
    finish_reason: string | null,
    logprobs: object | null = null,
  ) => ({
    ...chunkHead(ctx),
    choices: [{ index, delta, logprobs, finish_reason }],
  });
  const lpOf = (logprobs?: TokenLogprob[]) =>
    lp && logprobs ? { content: chatLogprobContent(logprobs, lp), refusal: null } : null;

  const states = new Map<number, ChoiceState>();
  const stateOf = (index: number): ChoiceState => {
    let s = states.get(index);
    if (!s) {
      s = {
        parser: output!.parser(),
        message: new MessageAccumulator(),
        ids: [],
        reasoningTokens: 0,
        pendingTokens: 0,
      };
      states.set(index, s);
    }
    return s;
  };
  /** The OpenAI delta of one parsed piece. */
  const deltaOf = (s: ChoiceState, d: ChatDelta): object | undefined => {
    switch (d.type) {
      case 'content':
        return { content: d.text };
      case 'reasoning':
        return output!.includeReasoning ? { reasoning_content: d.text, reasoning: d.text } : undefined;
      case 'tool_call':
        return {
          tool_calls: [
            { index: d.index, id: s.ids[d.index], type: 'function', function: { name: d.name, arguments: '' } },
          ],
        };
      case 'tool_args':
        return { tool_calls: [{ index: d.index, function: { arguments: d.text } }] };
    }
  };
  /** Parsed pieces into chunks, counting the update's `tokens` as reasoning when reasoning is all they made. */
  const parsedChunks = (ctx: Head, index: number, parsed: ChatDelta[], tokens: number, logprobs?: TokenLogprob[]) => {
    const s = stateOf(index);
    const deltas = output!.parallelToolCalls
      ? parsed
      : parsed.filter((d) => (d.type !== 'tool_call' && d.type !== 'tool_args') || d.index === 0);
    s.message.add(deltas);
    for (const d of deltas) if (d.type === 'tool_call') s.ids[d.index] = d.id ?? output!.newCallId();
    s.pendingTokens += tokens;
    if (deltas.length) {
      // Tokens that made only reasoning are reasoning tokens (an update that made both counts as answer).
      if (deltas.every((d) => d.type === 'reasoning')) s.reasoningTokens += s.pendingTokens;
      s.pendingTokens = 0;
    }
    const out = deltas.flatMap((d) => {
      const delta = deltaOf(s, d);
      return delta ? [chunk(ctx, index, delta, null)] : [];
    });
    // Logprobs ride on the update's first chunk; held-back text still shows its tokens' logprobs.
    const lps = lpOf(logprobs);
    if (lps) {
      const first = out[0]?.choices[0];
      if (first) first.logprobs = lps;
      else out.push(chunk(ctx, index, {}, null, lps));
    }
    return out;
  };
  const finishReason = (index: number, reason: ApiFinishReason): string =>
    reason === 'stop' && output && (states.get(index)?.message.message.toolCalls.length ?? 0) > 0
      ? 'tool_calls'
      : reason;

  return {
    // OpenAI opens every choice with the role and empty content before any token arrives.
    openingChunks: (ctx) =>
      Array.from({ length: ctx.n }, (_, i) => chunk(ctx, i, { role: 'assistant', content: '' }, null)),
    updateChunks: (ctx, u) => {
      if (u.kind === 'prompt')
        return promptLp && u.index === 0
          ? [{ ...chunkHead(ctx), choices: [], prompt_logprobs: vllmPromptLogprobs(u.logprobs, promptLp) }]
          : [];
      if (u.kind === 'finish') {
        const rest = output ? parsedChunks(ctx, u.index, stateOf(u.index).parser.finish(), 0) : [];
        return [...rest, chunk(ctx, u.index, {}, finishReason(u.index, u.finishReason))];
      }
      if (output) return parsedChunks(ctx, u.index, stateOf(u.index).parser.push(u.text), u.tokens, u.logprobs);
      if (!u.text && !lpOf(u.logprobs)) return [];
      return [chunk(ctx, u.index, { content: u.text }, null, lpOf(u.logprobs))];
    },
    usageChunk: (ctx, usage) => ({ ...chunkHead(ctx), choices: [], usage }),
    body: (ctx, choices, usage) => ({
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: choices.map((c) => ({
        index: c.index,
        message: output
          ? parsedMessage(states.get(c.index), output)
          : { role: 'assistant', content: c.text, refusal: null },
        logprobs: lp ? { content: chatLogprobContent(c.logprobs ?? [], lp), refusal: null } : null,
        finish_reason: finishReason(c.index, c.finishReason),
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
    usageDetails: () =>
      output
        ? {
            completion_tokens_details: {
              reasoning_tokens: [...states.values()].reduce((n, s) => n + s.reasoningTokens, 0),
            },
          }
        : {},
  };
}

/** The assistant message of one parsed choice: content null when it only called tools. */
function parsedMessage(s: ChoiceState | undefined, output: ChatOutputOptions): object {
  const m = s?.message.message ?? { content: '', reasoning: '', toolCalls: [] };
  return {
    role: 'assistant',
    content: m.content === '' && m.toolCalls.length > 0 ? null : m.content,
    refusal: null,
    ...(output.includeReasoning && m.reasoning ? { reasoning_content: m.reasoning, reasoning: m.reasoning } : {}),
    ...(m.toolCalls.length
      ? {
          tool_calls: m.toolCalls.map((t, i) => ({
            id: s!.ids[i],
            type: 'function',
            function: { name: t.name, arguments: t.arguments },
          })),
        }
      : {}),
  };
}
