import type { TokenLogprob } from '@loom/common';

/** How logprobs are rendered for one request: how many alternatives, and a token's text. */
export interface LogprobsOptions {
  /** Alternatives per position (OpenAI's top_logprobs / legacy logprobs). */
  top: number;
  /** A single token's text as the client should see it. */
  tokenText(id: number): string;
  /** A single token's raw bytes (a piece of a multi-byte character is not valid UTF-8 alone). */
  tokenBytes(id: number): Uint8Array;
  /** Where each token's text starts in the decoded text of `ids` (what echo shows for a prompt). */
  textOffsets(ids: readonly number[]): number[];
}

/** Chat `logprobs.content` entries (ChatCompletionTokenLogprob). */
export function chatLogprobContent(entries: TokenLogprob[], o: LogprobsOptions) {
  const item = (tokenId: number, logprob: number) => ({ token: o.tokenText(tokenId), logprob, bytes: [...o.tokenBytes(tokenId)] });
  return entries.map((e) => ({ ...item(e.tokenId, e.logprob), top_logprobs: e.top.slice(0, o.top).map((t) => item(t.tokenId, t.logprob)) }));
}

/** Legacy completions `logprobs`: null entries are positions nothing scored (the first prompt token). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

function legacyLogprobs(ids: readonly number[], entries: readonly (TokenLogprob | null)[], offsets: number[], o: LogprobsOptions): CompletionLogprobs {
  return {
    tokens: ids.map((id) => o.tokenText(id)),
    token_logprobs: entries.map((e) => e?.logprob ?? null),
    top_logprobs: entries.map((e) => (e ? Object.fromEntries(e.top.slice(0, o.top).map((t) => [o.tokenText(t.tokenId), t.logprob])) : null)),
    text_offset: offsets,
  };
}

/**
 * Legacy completions logprobs. `text_offset` is each token's character offset in the choice's
 * text, starting at `offset` (the echo length, or where the previous chunk ended).
 */
export function completionLogprobs(entries: TokenLogprob[], o: LogprobsOptions, offset: number): CompletionLogprobs {
  const offsets = entries.map((e) => {
    const at = offset;
    offset += o.tokenText(e.tokenId).length;
    return at;
  });
  return legacyLogprobs(entries.map((e) => e.tokenId), entries, offsets, o);
}

/**
 * The echoed prompt's logprobs (echo + logprobs): one entry per prompt token, null where nothing
 * scored it (position 0). Offsets follow the prompt's decoded text from 0, kept within the echoed
 * text (a text prompt is echoed as sent, which may differ slightly from its tokens' decode).
 */
export function promptLogprobs(ids: readonly number[], entries: readonly (TokenLogprob | null)[], o: LogprobsOptions, echoLength: number): CompletionLogprobs {
  const offsets = o.textOffsets(ids).map((at) => Math.min(at, echoLength));
  return legacyLogprobs(ids, ids.map((_, i) => entries[i] ?? null), offsets, o);
}

/** The prompt's entries followed by the completion's (each field concatenated). */
export function concatLogprobs(a: CompletionLogprobs, b: CompletionLogprobs): CompletionLogprobs {
  return {
    tokens: [...a.tokens, ...b.tokens],
    token_logprobs: [...a.token_logprobs, ...b.token_logprobs],
    top_logprobs: [...a.top_logprobs, ...b.top_logprobs],
    text_offset: [...a.text_offset, ...b.text_offset],
  };
}
