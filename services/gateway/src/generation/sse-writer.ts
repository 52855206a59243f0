import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Server-sent events on a raw response. Whenever nothing has been written for `keepAliveMs`
 * (typically while the request waits in the queue for its first token) it writes an SSE comment,
 * so proxies and clients with idle timeouts keep the connection open; clients ignore comments.
 *
 * Opened lazily, the 200 head goes out with the first byte (event or keep-alive), so an error
 * that comes before then (a queue-wait timeout, a request the cluster refuses) can still be a real
 * status with headers such as Retry-After, through reject().
 */
export class SseWriter {
  private timer?: NodeJS.Timeout;
  private headers?: OutgoingHttpHeaders;
  /** performance.now() of the last write: the keep-alive timer checks it when it fires (no re-arm per write). */
  private lastWriteAt = 0;
  /** Events queued by queue(), written together by flush(). */
  private pending = '';

  constructor(
    private readonly res: ServerResponse,
    private readonly keepAliveMs: number,
  ) {}

  open(headers: OutgoingHttpHeaders = {}, opts: { lazy?: boolean } = {}): void {
    this.headers = headers;
    if (!opts.lazy) this.writeHead();
    this.lastWriteAt = performance.now();
    this.timer = setTimeout(() => this.keepAlive(), this.keepAliveMs);
    this.timer.unref();
  }

  /** Whether the 200 head has been written (after which errors can only travel in-band). */
  get opened(): boolean {
    return this.res.headersSent;
  }

  /** One `data:` event holding `payload` as JSON, named `event` when given (the Responses API's framing). */
  send(payload: object, event?: string): void {
    this.queue(payload, event);
    this.flush();
  }

  /**
   * Like send(), but held until flush() (or done() / end()): the events of one burst (all a read
   * from the output stream delivered) go out in one socket write, not one each.
   */
  queue(payload: object, event?: string): void {
    this.pending += `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(payload)}\n\n`;
  }

  /** Writes what queue() holds, if anything. */
  flush(): void {
    if (this.pending === '') return;
    const s = this.pending;
    this.pending = '';
    this.write(s);
  }

  /** Whether the socket holds more than its high-water mark: await drained() before producing more. */
  get needsDrain(): boolean {
    return this.res.writableNeedDrain && !this.closed;
  }

  /** OpenAI's end-of-stream sentinel (after anything queued), then the end of the response. */
  done(): void {
    this.pending += 'data: [DONE]\n\n';
    this.flush();
    this.end();
  }

  /** Answer with a plain JSON error instead of a stream; only before anything was written. */
  reject(status: number, body: object, headers: OutgoingHttpHeaders = {}): void {
    if (this.opened) throw new Error('SseWriter.reject after the stream opened');
    clearTimeout(this.timer);
    if (this.closed) return;
    this.res.writeHead(status, { ...this.headers, ...headers, 'content-type': 'application/json; charset=utf-8' });
    this.res.end(JSON.stringify(body));
  }

  /**
   * Resolves once the socket has taken what was written (at once unless the client reads slower
   * than the stream produces), or when the response closes. Awaited before pulling the next event,
   * it carries a slow client's pace back to the output stream reader, so its backlog waits in Redis.
   */
  async drained(): Promise<void> {
    const res = this.res;
    if (!res.writableNeedDrain || this.closed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  /** Writes anything queued, then ends the response. */
  end(): void {
    this.flush();
    clearTimeout(this.timer);
    if (!this.res.writableEnded) this.res.end();
  }

  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private writeHead(): void {
    this.res.writeHead(200, {
      ...this.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx and friends must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  private write(s: string): void {
    if (this.closed) return;
    if (!this.opened) this.writeHead();
    this.res.write(s);
    this.lastWriteAt = performance.now();
  }

  /** Fires keepAliveMs after open() and then after each comment; writes one only if nothing else went out meanwhile. */
  private keepAlive(): void {
    if (this.closed) return;
    const quiet = performance.now() - this.lastWriteAt;
    if (quiet >= this.keepAliveMs) this.write(': keep-alive\n\n');
    // Next check when the stream will have been quiet for keepAliveMs, if nothing is written before.
    this.timer = setTimeout(
      () => this.keepAlive(),
      Math.max(1, this.keepAliveMs - (performance.now() - this.lastWriteAt)),
    );
    this.timer.unref();
  }
}
