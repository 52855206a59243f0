import type { XG, XGrammar } from '../xgrammar-module.js';
import { allowedTokens } from '../token-bitmask.js';
import { Utf8Guard } from '../utf8-guard.js';
import { at } from '@loom/common';

export interface Walk {
  tokens: number[];
  /** Whether the walk ended by accepting a stop token (the grammar was complete). */
  terminated: boolean;
}

/**
 * Generates like a model that knows nothing: at each step a token the matcher allows, drawn by `rand`,
 * preferring (with probability `closeBias`) tokens holding a character that closes something, and the
 * stop token whenever the grammar may end (with probability `stopBias`), so walks through JSON finish.
 * Stops after `maxSteps` tokens. Every token is checked to be accepted (the mask and the matcher agree).
 * The UTF-8 guard narrows the mask as the scheduler's manager does.
 */
export async function randomWalk(
  xg: XGrammar,
  compiled: XG.CompiledGrammar,
  utf8: Utf8Guard,
  stopIds: readonly number[],
  tokenText: (id: number) => string,
  rand: () => number,
  { maxSteps = 400, closeBias = 0.4, stopBias = 0.5 } = {},
): Promise<Walk> {
  const m = await xg.GrammarMatcher.createGrammarMatcher(compiled);
  const tokens: number[] = [];
  let state = Utf8Guard.START;
  try {
    for (let step = 0; step < maxSteps; step++) {
      // The scheduler's synchronous reader, checked against the package's own method.
      const mask = new Int32Array(utf8.words);
      xg.nextTokenBitmaskInto(m, mask);
      const own = await m.getNextTokenBitmask();
      if (own.some((w, i) => w !== mask[i])) throw new Error('nextTokenBitmaskInto disagrees with getNextTokenBitmask');
      utf8.apply(state, mask);
      const allowed = allowedTokens(mask, utf8.vocabSize);
      if (allowed.length === 0) throw new Error(`no token allowed after ${JSON.stringify(tokens)}`);
      const stops = allowed.filter((id) => stopIds.includes(id));
      let pick: number;
      if (stops.length > 0 && (stops.length === allowed.length || rand() < stopBias)) pick = at(stops, 0);
      else {
        const others = allowed.filter((id) => !stopIds.includes(id));
        const closing = others.filter((id) => /["}\]\n,]/.test(tokenText(id)));
        const pool = closing.length > 0 && rand() < closeBias ? closing : others;
        pick = at(pool, Math.floor(rand() * pool.length));
      }
      if (!m.acceptToken(pick)) throw new Error(`the matcher refused token ${pick}, which its mask allowed`);
      state = utf8.advance(state, pick);
      if (stopIds.includes(pick)) return { tokens, terminated: m.isTerminated() };
      tokens.push(pick);
    }
    return { tokens, terminated: false };
  } finally {
    m.dispose();
  }
}
