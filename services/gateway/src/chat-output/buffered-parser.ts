import type { ChatDelta, OutputParser } from './chat-delta.js';

/**
 * Base of the incremental parsers: text accumulates in `buf`; `step` consumes what it can decide and
 * leaves the rest, and must consume everything when `final`. Emitted pieces of the same kind
 * (content after content, arguments of the same call) are merged.
 */
export abstract class BufferedParser implements OutputParser {
  protected buf = '';
  /** Tool calls announced so far (the next call's index). */
  protected calls = 0;
  private out: ChatDelta[] = [];

  push(text: string): ChatDelta[] {
    this.buf += text;
    this.step(false);
    return this.drain();
  }

  finish(): ChatDelta[] {
    this.step(true);
    return this.drain();
  }

  /** Consume from `buf` what can be decided now (everything when `final`). */
  protected abstract step(final: boolean): void;

  protected content(text: string): void {
    this.emit({ type: 'content', text });
  }

  protected reasoning(text: string): void {
    this.emit({ type: 'reasoning', text });
  }

  /** Announces a call; returns its index. */
  protected startCall(name: string, id?: string): number {
    const index = this.calls++;
    this.out.push(id === undefined ? { type: 'tool_call', index, name } : { type: 'tool_call', index, name, id });
    return index;
  }

  /** Argument text of the call announced last. */
  protected args(text: string): void {
    this.emit({ type: 'tool_args', index: this.calls - 1, text });
  }

  /** Takes the first `n` characters of `buf`. */
  protected take(n: number): string {
    const s = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return s;
  }

  /**
   * Emits the content before the first of `markers` and takes that marker, returning it; with none in
   * the text yet, emits all the content that cannot be the start of one (everything when `final`)
   * and returns undefined.
   */
  protected contentUntil(markers: readonly string[], final: boolean): string | undefined {
    const hit = findMarker(this.buf, markers);
    if (!hit) {
      this.content(this.take(this.buf.length - (final ? 0 : partialMarkerLength(this.buf, markers))));
      return undefined;
    }
    this.content(this.take(hit.at));
    return this.take(hit.marker.length);
  }

  /**
   * After optional whitespace, which of `markers` comes next: taken (with the whitespace) and
   * returned; '' when the text certainly goes on with none of them (nothing taken); undefined while
   * it could still become one.
   */
  protected nextMarker(markers: readonly string[], final: boolean): string | undefined {
    const at = skipSpace(this.buf);
    const rest = this.buf.slice(at);
    for (const m of markers) {
      if (rest.startsWith(m)) {
        this.take(at + m.length);
        return m;
      }
    }
    if (!final && (rest === '' || markers.some((m) => m.startsWith(rest)))) return undefined;
    return '';
  }

  private emit(d: Extract<ChatDelta, { text: string }>): void {
    if (!d.text) return;
    const last = this.out.at(-1);
    if (last && last.type === d.type && (last.type !== 'tool_args' || last.index === (d as { index: number }).index))
      (last as { text: string }).text += d.text;
    else this.out.push({ ...d });
  }

  private drain(): ChatDelta[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `markers` (it may still become that marker). */
export function partialMarkerLength(text: string, markers: readonly string[]): number {
  let best = 0;
  for (const m of markers) {
    for (let k = Math.min(m.length - 1, text.length); k > best; k--) {
      if (text.endsWith(m.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

/** The earliest occurrence of any of `markers` in `text` (the longest marker when several start there). */
export function findMarker(text: string, markers: readonly string[]): { at: number; marker: string } | undefined {
  let found: { at: number; marker: string } | undefined;
  for (const m of markers) {
    const at = text.indexOf(m);
    if (at < 0) continue;
    if (!found || at < found.at || (at === found.at && m.length > found.marker.length)) found = { at, marker: m };
  }
  return found;
}

/** Index of the first non-whitespace character at or after `from`, or text.length. */
export function skipSpace(text: string, from = 0): number {
  let i = from;
  while (i < text.length && /\s/.test(text.charAt(i))) i++;
  return i;
}
