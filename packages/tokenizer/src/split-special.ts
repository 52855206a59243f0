/**
 * Splits input text around special-token texts before the model's encoder sees it, as llama.cpp's
 * tokenizer_st_partition does: special tokens are tried longest text first; each one splits every
 * remaining text fragment at all its (non-overlapping, left to right) occurrences.
 * Fragments are either raw text (`string`) or a token id (`number`), in input order.
 */
export type Fragment = string | number;

export interface SpecialToken {
  id: number;
  text: string;
}

/** Candidates must already be sorted by text length, longest first. */
export function splitSpecial(text: string, candidates: readonly SpecialToken[]): Fragment[] {
  let frags: Fragment[] = [text];
  for (const { id, text: special } of candidates) {
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
        if (at > from) next.push(frag.slice(from, at));
        next.push(id);
        from = at + special.length;
      }
      if (from < frag.length) next.push(frag.slice(from));
    }
    if (touched) frags = next;
  }
  return frags;
}
