import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Server-sent events on a raw response. Whenever nothing has been written for `keepAliveMs`
 * (typically while the request waits in the queue for its first token) it writes an SSE comment,
 * so proxies and clients with idle timeouts keep the connection open; clients ignore comments.
 */
export class SseWriter {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly keepAliveMs: number,
  ) {}

  open(headers: OutgoingHttpHeaders = {}): void {
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx and friends must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
    this.timer = setTimeout(() => this.keepAlive(), this.keepAliveMs);
    this.timer.unref();
  }

  /** One `data:` event holding `payload` as JSON. */
  send(payload: object): void {
    this.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  /** OpenAI's end-of-stream sentinel, then the end of the response. */
  done(): void {
    this.write('data: [DONE]\n\n');
    this.end();
  }

  end(): void {
    clearTimeout(this.timer);
    if (!this.res.writableEnded) this.res.end();
  }

  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private write(s: string): void {
    if (this.closed) return;
    this.res.write(s);
    this.timer?.refresh();
  }

  private keepAlive(): void {
    if (this.closed) return;
    this.res.write(': keep-alive\n\n');
    this.timer?.refresh();
  }
}
