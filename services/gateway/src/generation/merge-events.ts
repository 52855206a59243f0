import { at } from '@loom/common';
import type { OutputEvent } from '@loom/common';

/**
 * Several jobs' output event bursts as one stream of bursts, choices renumbered prompt-major: choice
 * `i` of source `k` becomes `k * n + i`, as OpenAI and vLLM number the choices of a multi-prompt
 * completion. Bursts are yielded as they arrive, whichever source they come from.
 */
export function mergeEvents(sources: AsyncIterable<OutputEvent[]>[], n: number): AsyncIterable<OutputEvent[]> {
  // One source (every request with one prompt) is passed through: no generator layer in its path.
  return sources.length === 1 ? at(sources, 0) : mergeSources(sources, n);
}

async function* mergeSources(sources: AsyncIterable<OutputEvent[]>[], n: number): AsyncGenerator<OutputEvent[]> {
  const iters = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ k: number; r: IteratorResult<OutputEvent[]> }>>();
  const pull = (k: number) =>
    pending.set(
      k,
      at(iters, k)
        .next()
        .then((r) => ({ k, r })),
    );
  iters.forEach((_, k) => pull(k));
  try {
    while (pending.size > 0) {
      const { k, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(k);
        continue;
      }
      yield r.value.map((ev) => (ev.type === 'error' ? ev : { ...ev, index: ev.index + k * n }));
      pull(k);
    }
  } finally {
    // Sources still open end when the caller's abort signal fires; return() just releases them.
    for (const k of pending.keys())
      void at(iters, k)
        .return?.()
        .catch(() => undefined);
  }
}
