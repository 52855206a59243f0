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

  constructor(
    private readonly res: ServerResponse,
    private readonly keepAliveMs: number,
  ) {}

  open(headers: OutgoingHttpHeaders = {}, opts: { lazy?: boolean } = {}): void {
    this.headers = headers;
    if (!opts.lazy) this.writeHead();
    this.timer = setTimeout(() => this.keepAlive(), this.keepAliveMs);
    this.timer.unref();
  }

  /** Whether the 200 head has been written (after which errors can only travel in-band). */
  get opened(): boolean {
    return this.res.headersSent;
  }

  /** One `data:` event holding `payload` as JSON, named `event` when given (the Responses API's framing). */
  send(payload: object, event?: string): void {
    this.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(payload)}\n\n`);
  }

  /** OpenAI's end-of-stream sentinel, then the end of the response. */
  done(): void {
    this.write('data: [DONE]\n\n');
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

  end(): void {
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
    this.timer?.refresh();
  }

  private keepAlive(): void {
    if (this.closed) return;
    this.write(': keep-alive\n\n');
  }
}
