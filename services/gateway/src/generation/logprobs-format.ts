import type { TokenLogprob } from '@loom/common';

/** How logprobs are rendered for one request: how many alternatives, and a token's text. */
export interface LogprobsOptions {
  /** Alternatives per position (OpenAI's top_logprobs / legacy logprobs). */
  top: number;
  /** A single token's text as the client should see it. */
  tokenText(id: number): string;
  /** A single token's raw bytes (a piece of a multi-byte character is not valid UTF-8 alone). */
  tokenBytes(id: number): Uint8Array;
}

/** Chat `logprobs.content` entries (ChatCompletionTokenLogprob). */
export function chatLogprobContent(entries: TokenLogprob[], o: LogprobsOptions) {
  const item = (tokenId: number, logprob: number) => ({ token: o.tokenText(tokenId), logprob, bytes: [...o.tokenBytes(tokenId)] });
  return entries.map((e) => ({ ...item(e.tokenId, e.logprob), top_logprobs: e.top.slice(0, o.top).map((t) => item(t.tokenId, t.logprob)) }));
}

/**
 * Legacy completions logprobs. `text_offset` is each token's character offset in the choice's
 * text, starting at `offset` (the echo length, or where the previous chunk ended).
 */
export function completionLogprobs(entries: TokenLogprob[], o: LogprobsOptions, offset: number) {
  const tokens: string[] = [];
  const text_offset: number[] = [];
  for (const e of entries) {
    const t = o.tokenText(e.tokenId);
    tokens.push(t);
    text_offset.push(offset);
    offset += t.length;
  }
  return {
    tokens,
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.slice(0, o.top).map((t) => [o.tokenText(t.tokenId), t.logprob]))),
    text_offset,
  };
}
