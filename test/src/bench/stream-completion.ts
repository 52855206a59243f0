/** What the client saw of one streamed completion. */
export interface StreamResult {
  ok: boolean;
  /** The completion id (the scheduler's request id), from the first chunk; '' if none came. */
  id: string;
  status: number;
  /** Seconds from sending the request to the first chunk carrying generated text or tokens. */
  ttftSeconds: number;
  outputTokens: number;
}

/**
 * POSTs a streaming /v1/completions request and reads its SSE chunks; TTFT is measured here, on the
 * client, at the first chunk with a choice (what a user waits for), output tokens from the final
 * usage chunk (stream_options.include_usage).
 */
export async function streamCompletion(
  baseURL: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<StreamResult> {
  const t0 = performance.now();
  const res = await fetch(`${baseURL}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (!res.ok || res.body === null) {
    await res.arrayBuffer().catch(() => undefined);
    return { ok: false, id: '', status: res.status, ttftSeconds: NaN, outputTokens: 0 };
  }
  let ttft = NaN;
  let outputTokens = 0;
  let id = '';
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let cut: number;
    while ((cut = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      const data = event
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6);
      if (data === undefined || data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        id?: string;
        choices?: unknown[];
        usage?: { completion_tokens: number } | null;
      };
      id ||= chunk.id ?? '';
      if (Number.isNaN(ttft) && (chunk.choices?.length ?? 0) > 0) ttft = (performance.now() - t0) / 1000;
      if (chunk.usage) outputTokens = chunk.usage.completion_tokens;
    }
  }
  return { ok: true, id, status: res.status, ttftSeconds: ttft, outputTokens };
}
