import type { TokenLogprob } from '@loom/common';
import type { ApiError } from '../errors/api-error.js';
import type { ChoiceUpdate } from './event-consumer.js';

/** OpenAI's finish reasons that the cluster reports (a chat format may turn 'stop' into 'tool_calls'). */
export type ApiFinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Present once known: the prompt tokens the prefix cache served. */
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/** Identity of one response: every chunk of a stream repeats it. */
export interface ResponseContext {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  n: number;
}

export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: ApiFinishReason;
  /** Per-token logprobs, when the request asked for them. */
  logprobs?: TokenLogprob[];
  /** The prompt's logprobs (null at position 0), when the request asked for them (echo + logprobs). */
  promptLogprobs?: (TokenLogprob | null)[];
}

/**
 * The one thing that differs between /v1/completions and /v1/chat/completions once a request is
 * accepted: the JSON shapes. The event consumer, SSE writer and error handling are shared and
 * call these builders.
 */
export interface ResponseFormat {
  /** Chunks sent as soon as the stream opens (chat: the assistant role delta of each choice). */
  openingChunks(ctx: ResponseContext): object[];
  /**
   * The chunks one update of one choice makes (its prompt logprobs, new text with its tokens'
   * logprobs, its finish): none, one, or several (chat splits text into content, reasoning and tool
   * call pieces). Called for every update in order, streamed or not, so formats that keep state per
   * choice (chat's output parsers) keep it here; only a stream sends what it returns.
   */
  updateChunks(ctx: ResponseContext, update: ChoiceUpdate): object[];
  /** The stream's final usage chunk (stream_options.include_usage): no choices. */
  usageChunk(ctx: ResponseContext, usage: Usage): object;
  /** The non-streaming body. */
  body(ctx: ResponseContext, choices: ChoiceResult[], usage: Usage): object;
  /** Usage details the format counted itself (chat: reasoning tokens), merged into every usage object. */
  usageDetails?(): Pick<Usage, 'completion_tokens_details'>;
  /** Chunks that end a complete stream, once its usage is known (Responses: the final `response.completed`). */
  closingChunks?(ctx: ResponseContext, usage: Usage): object[];
  /**
   * Present for streams of typed events (the Responses API): each chunk goes out as `event: <chunk.type>`,
   * the stream ends without `[DONE]`, and an error after it opened is sent as `error(err, usage)`'s events.
   */
  typedEvents?: { error(err: ApiError, usage: Usage): object[] };
}

export function usageOf(promptTokens: number, completionTokens: number, cachedTokens?: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    ...(cachedTokens !== undefined ? { prompt_tokens_details: { cached_tokens: cachedTokens } } : {}),
  };
}
