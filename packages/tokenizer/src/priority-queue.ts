import { at } from '@loom/common';

/**
 * Binary max-heap ordered by `before(a, b)` (true when a must pop before b). Used by the SPM and BPE
 * merge loops, where llama.cpp uses std::priority_queue: the pop order for equal keys is fully decided
 * by the comparator (ties broken by symbol index), so the heap's own instability never shows.
 * Sifts move a hole instead of swapping, comparing in the same order a swapping heap would.
 */
export class PriorityQueue<T> {
  private items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = at(a, p);
      if (!this.before(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = at(a, 0);
    const last = at(a, a.length - 1);
    a.length--;
    const n = a.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      if (l < n) {
        const x = at(a, l);
        if (this.before(x, best)) [m, best] = [l, x];
      }
      if (r < n) {
        const x = at(a, r);
        if (this.before(x, best)) [m, best] = [r, x];
      }
      if (m === i) break;
      a[i] = best;
      i = m;
    }
    a[i] = last;
    return top;
  }
}
