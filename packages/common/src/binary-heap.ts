import { at } from './at.js';

/**
 * Binary heap ordered by `before(a, b)` (true when a must pop before b): the tokenizers' merge queues
 * (llama.cpp's std::priority_queue) and the scheduler's priority waiting queue. Equal keys pop in an
 * order the heap does not define, so callers whose output must be exact break ties in `before`.
 * Sifts move a hole instead of swapping, comparing in the same order a swapping heap would.
 * Invariant: for every slot i > 0, !before(items[i], items[(i - 1) >> 1]).
 */
export class BinaryHeap<T> implements Iterable<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1, item);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (items.length > 0) this.siftDown(0, last);
    return top;
  }

  /** O(n) search, O(log n) repair; false when `item` is not queued. */
  remove(item: T): boolean {
    const items = this.items;
    const i = items.indexOf(item);
    if (i < 0) return false;
    const last = items.pop();
    if (last !== undefined && i < items.length) {
      this.siftDown(i, last);
      this.siftUp(i, at(items, i));
    }
    return true;
  }

  /** Heap order, not pop order. */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }

  /** Moves `item`, bound for slot i, up to its place (the slots it passes move down one level). */
  private siftUp(i: number, item: T): void {
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = at(items, p);
      if (!this.before(item, parent)) break;
      items[i] = parent;
      i = p;
    }
    items[i] = item;
  }

  /** Moves `item`, bound for slot i, down to its place. */
  private siftDown(i: number, item: T): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = item;
      if (l < n) {
        const child = at(items, l);
        if (this.before(child, best)) {
          m = l;
          best = child;
        }
      }
      if (r < n) {
        const child = at(items, r);
        if (this.before(child, best)) {
          m = r;
          best = child;
        }
      }
      if (m === i) break;
      items[i] = best;
      i = m;
    }
    items[i] = item;
  }
}
