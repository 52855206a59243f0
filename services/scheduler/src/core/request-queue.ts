import { at, BinaryHeap } from '@loom/common';
import type { Request } from './request.js';

export type SchedulingPolicy = 'fcfs' | 'priority';

/** The waiting queue. peek/pop give the next request to admit under the policy. */
export interface RequestQueue extends Iterable<Request> {
  readonly length: number;
  add(request: Request): void;
  /** Puts a request back ahead of the ones it was ahead of before (preemption, skipped admission). */
  prepend(request: Request): void;
  peek(): Request | undefined;
  pop(): Request | undefined;
  /** O(n); for aborts. */
  remove(request: Request): boolean;
}

export function createRequestQueue(policy: SchedulingPolicy): RequestQueue {
  return policy === 'priority' ? new PriorityRequestQueue() : new FcfsRequestQueue();
}

/** Arrival order; prepend puts a request at the very front. */
export class FcfsRequestQueue implements RequestQueue {
  // items[head..] are queued; the consumed prefix is compacted away once it dominates.
  private items: Request[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  add(request: Request): void {
    this.items.push(request);
  }

  prepend(request: Request): void {
    if (this.head > 0) this.items[--this.head] = request;
    else this.items.unshift(request);
  }

  peek(): Request | undefined {
    return this.items[this.head];
  }

  pop(): Request | undefined {
    const request = this.items[this.head]; // undefined only at the end: [head, length) holds no holes
    if (request === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Request;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return request;
  }

  remove(request: Request): boolean {
    const i = this.items.indexOf(request, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  *[Symbol.iterator](): Iterator<Request> {
    for (let i = this.head; i < this.items.length; i++) yield at(this.items, i);
  }
}

/**
 * Min-heap on (priority, arrivalSeq). A preempted request keeps its arrivalSeq, so prepend is add:
 * it goes back ahead of every later arrival of the same priority.
 */
export class PriorityRequestQueue implements RequestQueue {
  private readonly heap = new BinaryHeap<Request>(before);

  get length(): number {
    return this.heap.size;
  }

  add(request: Request): void {
    this.heap.push(request);
  }

  prepend(request: Request): void {
    this.add(request);
  }

  peek(): Request | undefined {
    return this.heap.peek();
  }

  pop(): Request | undefined {
    return this.heap.pop();
  }

  remove(request: Request): boolean {
    return this.heap.remove(request);
  }

  /** Heap order, not priority order. */
  [Symbol.iterator](): Iterator<Request> {
    return this.heap[Symbol.iterator]();
  }
}

/** Whether `a` is scheduled before `b` under the priority policy. */
export function before(a: Request, b: Request): boolean {
  return a.priority !== b.priority ? a.priority < b.priority : a.arrivalSeq < b.arrivalSeq;
}
