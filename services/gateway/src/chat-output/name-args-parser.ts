import { BufferedParser, findMarker, skipSpace } from './buffered-parser.js';
import { JsonCallReader, type JsonCallOptions } from './json-call-reader.js';
import { JsonValueScanner } from './json-value-scanner.js';

export interface NameArgsFormat {
  /** Marker that opens one call. */
  open: readonly string[];
  /** Markers that end the name; the arguments JSON follows. */
  nameEnd: readonly string[];
  /** Marker between the name and an id the model writes itself, itself ended by `idEnd` (Mistral's `[CALL_ID]`). */
  idStart?: string;
  idEnd?: string;
  /** Literal that may precede the name and is not part of it (DeepSeek V3's `function<｜tool▁sep｜>`). */
  namePrefix?: string;
  /** Literals that may come before and after the arguments (DeepSeek V3's code fence). */
  argsPrefix?: string;
  argsSuffix?: string;
  /** Marker that closes a call (consumed when present). */
  close?: string;
  /** Markers that carry nothing (section openers and closers): dropped from the text. */
  ignore?: readonly string[];
  /** Name as written → function name and id (Kimi-K2's `functions.get_weather:0`). */
  parseName?: (raw: string) => { name: string; id?: string };
  /** After the opener, JSON calls instead of a name (Mistral before v11: `[TOOL_CALLS][{...}]`). */
  jsonAfterOpen?: JsonCallOptions;
}

type State = 'content' | 'prefix' | 'name' | 'id' | 'argsPrefix' | 'args' | 'json' | 'argsSuffix' | 'close';

/**
 * Tool calls written as a name then a JSON arguments value: DeepSeek V3.1
 * (`<｜tool▁call▁begin｜>f<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`) and V3/R1 (`function<｜tool▁sep｜>f\n```json\n{...}\n````),
 * Kimi-K2 (`<|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{...}<|tool_call_end|>`),
 * Mistral v11+ (`[TOOL_CALLS]f[CALL_ID]id[ARGS]{...}`), Functionary v3.1 (`<function=f>{...}</function>`).
 * The call is announced when its name ends; the arguments stream as written.
 */
export class NameArgsParser extends BufferedParser {
  private state: State = 'content';
  private name = '';
  private scanner: JsonValueScanner | undefined;
  private reader: JsonCallReader | undefined;
  private opened = '';

  constructor(private readonly f: NameArgsFormat) {
    super();
  }

  private get contentMarkers(): readonly string[] {
    return [...this.f.open, ...(this.f.ignore ?? [])];
  }

  protected step(final: boolean): void {
    while (this.advance(final));
  }

  /** One move of the state machine; false when it needs more text (or, when final, is done). */
  private advance(final: boolean): boolean {
    switch (this.state) {
      case 'content': {
        const marker = this.contentUntil(this.contentMarkers, final);
        if (marker === undefined) return false;
        this.opened = marker;
        if (this.f.open.includes(marker)) this.state = this.f.jsonAfterOpen ? 'json' : 'prefix';
        return true;
      }
      case 'json': {
        // Mistral: JSON calls when the opener is followed by '[' or '{', a name otherwise.
        if (!this.reader) {
          const at = skipSpace(this.buf);
          if (at === this.buf.length && !final) return false;
          if (this.buf[at] !== '[' && this.buf[at] !== '{') {
            this.state = 'prefix';
            return true;
          }
          this.reader = new JsonCallReader(
            { start: (name) => this.startCall(name), args: (t) => this.args(t) },
            this.f.jsonAfterOpen!,
          );
        }
        const r = this.reader;
        this.take(r.feed(this.buf, final));
        if (!r.done && !r.failed && !final) return false;
        if (!r.done && r.announced === 0) this.content(this.opened + r.raw);
        this.reader = undefined;
        this.state = 'content';
        return true;
      }
      case 'prefix': {
        if (this.f.namePrefix && this.nextMarker([this.f.namePrefix], final) === undefined) return false;
        this.name = '';
        this.state = 'name';
        return true;
      }
      case 'name': {
        const ends = this.f.idStart ? [...this.f.nameEnd, this.f.idStart] : this.f.nameEnd;
        const hit = findMarker(this.buf, ends);
        if (!hit) {
          if (final) {
            this.content(this.opened + this.take(this.buf.length)); // a name that never ended: not a call
            this.state = 'content';
          }
          return false;
        }
        const raw = this.take(hit.at).trim();
        this.take(hit.marker.length);
        if (hit.marker === this.f.idStart) {
          this.name = raw;
          this.state = 'id';
          return true;
        }
        this.announce(raw);
        this.state = 'argsPrefix';
        return true;
      }
      case 'id': {
        const hit = findMarker(this.buf, [this.f.idEnd!]);
        if (!hit) {
          if (final) this.state = 'content';
          return false;
        }
        const id = this.take(hit.at).trim();
        this.take(hit.marker.length);
        this.announce(this.name, id);
        this.state = 'argsPrefix';
        return true;
      }
      case 'argsPrefix':
        if (this.f.argsPrefix && this.nextMarker([this.f.argsPrefix], final) === undefined) return false;
        if (!this.scanner) {
          const at = skipSpace(this.buf);
          if (at === this.buf.length && !final) return false;
          this.take(at);
          this.scanner = new JsonValueScanner();
        }
        this.state = 'args';
        return true;
      case 'args': {
        const s = this.scanner!;
        const n = s.feed(this.buf);
        this.args(this.take(n));
        if (final) s.end();
        if (!s.done && !s.invalid && !final) return false;
        this.scanner = undefined;
        this.state = this.f.argsSuffix ? 'argsSuffix' : 'close';
        return true;
      }
      case 'argsSuffix':
        if (this.nextMarker([this.f.argsSuffix!], final) === undefined) return false;
        this.state = 'close';
        return true;
      case 'close':
        if (this.f.close && this.nextMarker([this.f.close], final) === undefined) return false;
        this.state = 'content';
        return true;
    }
  }

  private announce(raw: string, id?: string): void {
    const parsed = this.f.parseName ? this.f.parseName(raw) : { name: raw };
    this.startCall(parsed.name, id ?? parsed.id);
  }
}
