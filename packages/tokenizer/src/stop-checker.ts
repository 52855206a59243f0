/**
 * Stop-string detection over streamed output text. The caller keeps the full output text and how much
 * of it it has already sent; check() says where generation must stop (if a stop string occurred) and
 * how far text may be sent now. Invariant: text up to `safeEnd` never ends with the beginning of a stop
 * string, so a stop string split across tokens is never partly sent before it is recognised.
 * Offsets are JS string indices (UTF-16 code units) into the output text.
 */
export interface StopCheck {
  /** Index in the text where the earliest stop string starts; the output ends there. */
  stopIndex?: number;
  /** The stop string found (the first listed one when several start at the same index). */
  stop?: string;
  /** Text [0, safeEnd) may be emitted now; equals stopIndex when a stop string was found. */
  safeEnd: number;
}

export class StopChecker {
  private readonly stops: string[];
  private readonly maxLen: number;

  /** Empty strings are ignored (they would stop before any output). */
  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
    this.maxLen = Math.max(0, ...this.stops.map((s) => s.length));
  }

  get active(): boolean {
    return this.stops.length > 0;
  }

  /**
   * `text`: all output text so far; `emitted`: how many of its code units were already sent (a stop
   * string cannot start there: check() held such text back). Only text from `emitted` on is searched.
   */
  check(text: string, emitted: number): StopCheck {
    if (this.stops.length === 0) return { safeEnd: text.length };
    let best: StopCheck | undefined;
    for (const stop of this.stops) {
      const at = text.indexOf(stop, emitted);
      if (at !== -1 && (best === undefined || at < best.stopIndex!)) best = { stopIndex: at, stop, safeEnd: at };
    }
    if (best) return best;
    // Longest suffix of the unsent text that some stop string starts with.
    const limit = Math.min(this.maxLen - 1, text.length - emitted);
    for (let k = limit; k > 0; k--) {
      const tail = text.slice(text.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) return { safeEnd: text.length - k };
    }
    return { safeEnd: text.length };
  }
}
