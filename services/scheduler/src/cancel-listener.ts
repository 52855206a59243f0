import type { Redis } from 'ioredis';
import { CANCEL_STREAM_KEY, OUTPUT_STREAM_FIELD, type CancelEvent, type Logger } from '@loom/common';

/**
 * Follows the cancel stream from "now" on a dedicated connection (XREAD BLOCK holds it) and
 * reports each cancellation. A stream rather than pub/sub so a cancel sent during a reconnect is
 * still read.
 */
export class CancelListener {
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly onCancel: (e: CancelEvent) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.redis.disconnect();
  }

  private async loop(): Promise<void> {
    // The id of the newest entry when the listener started; not '$', which each XREAD would take as
    // "newest when this call arrives", skipping a cancel added between a timed-out read and the next.
    let last: string | undefined;
    while (!this.stopped) {
      try {
        last ??= await this.newestId();
        const res = (await this.redis.xread('BLOCK', 1000, 'STREAMS', CANCEL_STREAM_KEY, last)) as
          [string, [string, string[]][]][] | null;
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            last = id;
            const i = fields.indexOf(OUTPUT_STREAM_FIELD);
            const value = i >= 0 ? fields[i + 1] : undefined;
            if (value !== undefined) this.onCancel(JSON.parse(value) as CancelEvent);
          }
        }
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err: (err as Error).message }, 'cancel stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** The stream's newest entry id, or '0-0' while it has none (every entry then comes later). */
  private async newestId(): Promise<string> {
    const [newest] = await this.redis.xrevrange(CANCEL_STREAM_KEY, '+', '-', 'COUNT', 1);
    return newest?.[0] ?? '0-0';
  }
}
