/**
 * Splits input text around special-token texts before the model's encoder sees it, as llama.cpp's
 * tokenizer_st_partition does: special tokens are tried longest UTF-8 text first; each one splits every
 * remaining text fragment at all its (non-overlapping, left to right) occurrences. A token with lstrip
 * (rstrip) also eats the ASCII whitespace (C isspace) just before (after) it within that fragment.
 * Fragments are either raw text (`string`) or a token id (`number`), in input order.
 */
export type Fragment = string | number;

export interface SpecialToken {
  id: number;
  text: string;
  lstrip?: boolean;
  rstrip?: boolean;
}

const isSpace = (c: string | undefined) => c === ' ' || (c !== undefined && c >= '\t' && c <= '\r');

/** Candidates must already be in llama.cpp's order: longest UTF-8 text first. */
export function splitSpecial(text: string, candidates: readonly SpecialToken[]): Fragment[] {
  let frags: Fragment[] = [text];
  for (const { id, text: special, lstrip, rstrip } of candidates) {
    if (special.length === 0) continue;
    let touched = false;
    const next: Fragment[] = [];
    for (const frag of frags) {
      if (typeof frag !== 'string' || !frag.includes(special)) {
        next.push(frag);
        continue;
      }
      touched = true;
      let from = 0;
      for (let at = frag.indexOf(special); at !== -1; at = frag.indexOf(special, from)) {
        let leftEnd = at;
        if (lstrip) while (leftEnd > from && isSpace(frag[leftEnd - 1])) leftEnd--;
        if (leftEnd > from) next.push(frag.slice(from, leftEnd));
        next.push(id);
        from = at + special.length;
        if (rstrip) while (from < frag.length && isSpace(frag[from])) from++;
      }
      if (from < frag.length) next.push(frag.slice(from));
    }
    if (touched) frags = next;
  }
  return frags;
}
