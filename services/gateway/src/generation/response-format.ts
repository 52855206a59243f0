import type { TokenLogprob } from '@loom/common';

/** OpenAI's finish reasons that Loom produces. */
export type ApiFinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
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
  /** The prompt's logprobs of one choice, before its first token (only formats that echo the prompt render them). */
  promptChunk?(ctx: ResponseContext, index: number, logprobs: (TokenLogprob | null)[]): object | null;
  /** New text of one choice (and the logprobs of its tokens, when asked for). */
  deltaChunk(ctx: ResponseContext, index: number, text: string, logprobs?: TokenLogprob[]): object;
  /** The last chunk of one choice, carrying its finish_reason. */
  finishChunk(ctx: ResponseContext, index: number, finishReason: ApiFinishReason): object;
  /** The stream's final usage chunk (stream_options.include_usage): no choices. */
  usageChunk(ctx: ResponseContext, usage: Usage): object;
  /** The non-streaming body. */
  body(ctx: ResponseContext, choices: ChoiceResult[], usage: Usage): object;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}
