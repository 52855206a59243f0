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
  const item = (tokenId: number, logprob: number) => ({
    token: o.tokenText(tokenId),
    logprob,
    bytes: [...o.tokenBytes(tokenId)],
  });
  return entries.map((e) => ({
    ...item(e.tokenId, e.logprob),
    top_logprobs: e.top.slice(0, o.top).map((t) => item(t.tokenId, t.logprob)),
  }));
}

/**
 * vLLM's `prompt_logprobs`: per prompt position null (position 0: nothing scores the first token) or
 * a map token id → {logprob, rank, decoded_token} holding the prompt's own token and the top
 * alternatives. rank is 1-based in the whole vocabulary; it is exact when the token is among the
 * alternatives or at least as likely as the last of them, and null when that cannot be known.
 */
export function vllmPromptLogprobs(entries: readonly (TokenLogprob | null)[], o: LogprobsOptions) {
  return entries.map((e) => {
    if (e === null) return null;
    const top = e.top.slice(0, o.top);
    const rankOf = (logprob: number) => 1 + top.filter((t) => t.logprob > logprob).length;
    const known =
      top.some((t) => t.tokenId === e.tokenId) || top.length === 0 || e.logprob >= (top.at(-1)?.logprob ?? -Infinity);
    const out: Record<string, { logprob: number; rank: number | null; decoded_token: string }> = {
      [e.tokenId]: {
        logprob: e.logprob,
        rank: known ? rankOf(e.logprob) : null,
        decoded_token: o.tokenText(e.tokenId),
      },
    };
    for (const t of top)
      out[t.tokenId] ??= { logprob: t.logprob, rank: rankOf(t.logprob), decoded_token: o.tokenText(t.tokenId) };
    return out;
  });
}

/** Legacy completions `logprobs`: null entries are positions nothing scored (the first prompt token). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

function legacyLogprobs(
  ids: readonly number[],
  entries: readonly (TokenLogprob | null)[],
  offsets: number[],
  o: LogprobsOptions,
): CompletionLogprobs {
  return {
    tokens: ids.map((id) => o.tokenText(id)),
    token_logprobs: entries.map((e) => e?.logprob ?? null),
    top_logprobs: entries.map((e) =>
      e ? Object.fromEntries(e.top.slice(0, o.top).map((t) => [o.tokenText(t.tokenId), t.logprob])) : null,
    ),
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
  return legacyLogprobs(
    entries.map((e) => e.tokenId),
    entries,
    offsets,
    o,
  );
}

/**
 * The echoed prompt's logprobs (echo + logprobs): one entry per prompt token, null where nothing
 * scored it (position 0). Offsets follow the prompt's decoded text from 0, kept within the echoed
 * text (a text prompt is echoed as sent, which may differ slightly from its tokens' decode).
 */
export function promptLogprobs(
  ids: readonly number[],
  entries: readonly (TokenLogprob | null)[],
  o: LogprobsOptions,
  echoLength: number,
): CompletionLogprobs {
  const offsets = o.textOffsets(ids).map((at) => Math.min(at, echoLength));
  return legacyLogprobs(
    ids,
    ids.map((_, i) => entries[i] ?? null),
    offsets,
    o,
  );
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
