import type { OutputParser } from '../chat-output/chat-delta.js';
import { MessageAccumulator, type ParsedMessage } from '../chat-output/message-accumulator.js';

/**
 * The message a fresh parser makes of `text` pushed in pieces cut at `cuts` (character offsets),
 * and every delta it returned on the way. No cuts: the whole text in one push.
 */
export function parseInPieces(
  make: () => OutputParser,
  text: string,
  cuts: readonly number[] = [],
): { message: ParsedMessage; deltas: ReturnType<OutputParser['push']> } {
  const parser = make();
  const acc = new MessageAccumulator();
  const deltas: ReturnType<OutputParser['push']> = [];
  let at = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < text.length).sort((a, b) => a - b)) {
    const d = parser.push(text.slice(at, cut));
    deltas.push(...d);
    at = cut;
  }
  deltas.push(...parser.push(text.slice(at)), ...parser.finish());
  acc.add(deltas);
  return { message: acc.message, deltas };
}

/** Every cut a string of length `n` allows: one character per push. */
export function everyCharacter(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
