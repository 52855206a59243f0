/**
 * One request of a workload. A prompt of token ids goes to /v1/completions as is (its length is then
 * exact whatever the tokenizer); for chat it is detokenized by the server first. A text prompt goes as
 * text (completions) or as one user message (chat).
 */
export interface BenchRequest {
  prompt: string | number[];
  /** Prompt tokens as the dataset made or counted them; the server's usage.prompt_tokens replaces it when given. */
  promptLen: number;
  /** max_tokens to ask for. */
  outputLen: number;
  /** Which shared prefix (tenant) the prompt begins with, for datasets that have them. */
  group?: number;
}

/**
 * What the client saw of one streamed request: vLLM's RequestFuncOutput, times in seconds. `ttft` is
 * taken at the first chunk carrying generated output (text, content, reasoning or a tool call), `itl`
 * holds the gap before every later such chunk, `latency` ends at the last one.
 */
export interface RequestOutput {
  success: boolean;
  /** HTTP status; 0 when no response came (connection refused or reset, timeout). */
  status: number;
  /** Retry-After of a refused request, in seconds, when the server gave one. */
  retryAfter?: number;
  error: string;
  /** The completion's id from its first chunk, '' when none came. */
  id: string;
  /** performance.now() / 1000 when the request was sent. */
  startTime: number;
  ttft: number;
  itl: number[];
  latency: number;
  /** usage.completion_tokens, or the number of output chunks when the server sent no usage. */
  outputTokens: number;
  promptLen: number;
  generatedText: string;
  finishReason: string | null;
  /** Seconds the request waited for a --max-concurrency slot after its arrival time. */
  clientQueueTime: number;
}

export function emptyOutput(promptLen: number, startTime: number): RequestOutput {
  return {
    success: false,
    status: 0,
    error: '',
    id: '',
    startTime,
    ttft: 0,
    itl: [],
    latency: 0,
    outputTokens: 0,
    promptLen,
    generatedText: '',
    finishReason: null,
    clientQueueTime: 0,
  };
}
