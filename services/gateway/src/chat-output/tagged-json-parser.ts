import { BufferedParser, skipSpace } from './buffered-parser.js';
import { JsonCallReader, type JsonCallOptions } from './json-call-reader.js';

export interface TaggedJsonFormat {
  /** Markers that open a region of JSON calls. */
  open: readonly string[];
  /** The marker that closes a region, when the format has one (consumed when present). */
  close?: string;
  /** Markers that carry nothing for the client (Command R7B's response brackets): dropped. */
  ignore?: readonly string[];
  /**
   * Calls may also come without a marker at the start of the output and after a call, separated by
   * `;` (Llama 3.x writes `{"name": ..., "parameters": ...}` bare; `json.nameFirst` keeps JSON answers content).
   */
  bare?: boolean;
  json: JsonCallOptions;
}

/**
 * Tool calls as JSON inside marked regions: Hermes/Qwen2.5/Qwen3 (`<tool_call>\n{"name": ..., "arguments":
 * ...}\n</tool_call>`), Granite 3 (`<|tool_call|>[...]`), Mistral before v11 (`[TOOL_CALLS][...]`),
 * Command R7B (`<|START_ACTION|>[{"tool_name": ..., "parameters": ...}]<|END_ACTION|>`), Nemotron
 * (`<TOOLCALL>[...]</TOOLCALL>`). Text outside regions is content; a region whose text is not a call is
 * given back as content, marker included (vLLM's parsers do the same with what does not parse).
 */
export class TaggedJsonParser extends BufferedParser {
  private reader: JsonCallReader | undefined;
  private regionText = '';
  private closing = false;
  /** At the start of the output or right after a call: where `bare` calls may begin. */
  private atBoundary = true;
  private readonly markers: readonly string[];

  constructor(private readonly format: TaggedJsonFormat) {
    super();
    this.markers = [...format.open, ...(format.ignore ?? [])];
  }

  protected step(final: boolean): void {
    for (;;) {
      if (this.closing) {
        if (!this.skipClose(final)) return;
        continue;
      }
      if (this.reader) {
        if (!this.readRegion(final)) return;
        continue;
      }
      if (this.format.bare && this.atBoundary) {
        const at = skipSpace(this.buf);
        if (at === this.buf.length && !final) return;
        const c = this.buf[at];
        if (c === ';') {
          this.take(at + 1);
          continue;
        }
        this.atBoundary = false;
        if (c === '{' || (c === '[' && this.format.json.array !== 'never')) {
          this.openRegion(this.take(at));
          continue;
        }
      }
      const marker = this.contentUntil(this.markers, final);
      if (marker === undefined) return;
      if (this.format.open.includes(marker)) this.openRegion(marker);
    }
  }

  private openRegion(text: string): void {
    this.regionText = text;
    this.reader = new JsonCallReader(
      { start: (name) => this.startCall(name), args: (t) => this.args(t) },
      this.format.json,
    );
  }

  /** Feeds the region; false when it needs more text. */
  private readRegion(final: boolean): boolean {
    const r = this.reader!;
    const n = r.feed(this.buf, final);
    this.take(n);
    if (r.done) {
      this.reader = undefined;
      this.closing = this.format.close !== undefined;
      this.atBoundary = true;
      return true;
    }
    if (r.failed || final) {
      this.reader = undefined;
      // Not a call after all: the marker and what followed it are content.
      if (r.announced === 0) this.content(this.regionText + r.raw);
      return true;
    }
    return false;
  }

  /** Consumes whitespace and the closing marker when they come; false when it needs more text. */
  private skipClose(final: boolean): boolean {
    if (this.nextMarker([this.format.close!], final) === undefined) return false;
    this.closing = false;
    return true;
  }
}
