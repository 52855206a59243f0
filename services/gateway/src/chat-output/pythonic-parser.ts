import { BufferedParser, skipSpace } from './buffered-parser.js';
import { PythonValueScanner, pythonLiteralToJson } from './python-literal.js';

export interface PythonicFormat {
  /** The output may start with the call list, unmarked (Llama 3.2 / 4 pythonic). */
  bare?: boolean;
  /** Markers around a call list (LFM2's `<|tool_call_start|>[...]<|tool_call_end|>`). */
  open?: string;
  close?: string;
}

type State = 'content' | 'list' | 'call' | 'name' | 'arg' | 'key' | 'value' | 'close';

/**
 * Tool calls as a Python list of calls with keyword arguments, `[get_weather(city="Paris"), f()]`
 * (vLLM's pythonic parser). Each call is announced at `name(`; its arguments stream one keyword at a
 * time (`{"city": "Paris"`, `, "days": 3`, then `}`), values converted from Python literals to JSON
 * (a value that is not a literal becomes a JSON string of its text).
 */
export class PythonicParser extends BufferedParser {
  private state: State;
  private params = 0;
  private key = '';
  private scanner: PythonValueScanner | undefined;
  private valueText = '';
  private inCall = false;
  private listText = '';
  private announcedInList = 0;

  constructor(private readonly f: PythonicFormat) {
    super();
    this.state = f.bare ? 'list' : 'content';
  }

  protected step(final: boolean): void {
    while (this.advance(final));
    if (final && this.inCall) this.closeCall();
  }

  private advance(final: boolean): boolean {
    switch (this.state) {
      case 'content': {
        const open = this.f.open;
        if (!open) {
          this.content(this.take(this.buf.length));
          return false;
        }
        const marker = this.contentUntil([open], final);
        if (marker === undefined) return false;
        this.listText = marker;
        this.announcedInList = 0;
        this.state = 'list';
        return true;
      }
      case 'list': {
        const at = skipSpace(this.buf);
        if (at === this.buf.length && !final) return false;
        if (this.buf[at] !== '[') return this.giveBack();
        this.listText += this.take(at + 1);
        this.state = 'call';
        return true;
      }
      case 'call': {
        // Between calls: whitespace and commas, then a name, or the end of the list.
        const at = skipSpace(this.buf);
        if (at === this.buf.length) return final ? this.giveBack() : false;
        const c = this.buf[at];
        if (c === ',') {
          this.listText += this.take(at + 1);
          return true;
        }
        if (c === ']') {
          this.listText += this.take(at + 1);
          this.state = 'close';
          return true;
        }
        this.listText += this.take(at);
        this.state = 'name';
        return true;
      }
      case 'name': {
        const m = /^[A-Za-z_][\w.-]*/.exec(this.buf);
        const len = m?.[0].length ?? 0;
        if (len === this.buf.length && !final) return false;
        if (len === 0 || this.buf[len] !== '(') return this.giveBack();
        const name = this.take(len);
        this.listText += name + this.take(1);
        this.startCall(name);
        this.announcedInList++;
        this.inCall = true;
        this.params = 0;
        this.state = 'arg';
        return true;
      }
      case 'arg': {
        const at = skipSpace(this.buf);
        if (at === this.buf.length) return final ? this.giveBack() : false;
        const c = this.buf[at];
        this.take(at);
        if (c === ',') {
          this.take(1);
          return true;
        }
        if (c === ')') {
          this.take(1);
          this.closeCall();
          this.state = 'call';
          return true;
        }
        this.state = 'key';
        return true;
      }
      case 'key': {
        const m = /^([A-Za-z_]\w*)\s*=/.exec(this.buf);
        if (!m) {
          if (!final && /^[A-Za-z_]\w*\s*$/.test(this.buf)) return false;
          return this.giveBack();
        }
        this.key = m[1] ?? ''; // the regex's one group always matches
        this.take(m[0].length);
        this.scanner = new PythonValueScanner();
        this.valueText = '';
        this.state = 'value';
        return true;
      }
      case 'value': {
        const s = this.scanner!;
        this.valueText += this.take(s.feed(this.buf));
        if (!s.done && !final) return false;
        const text = this.valueText;
        this.scanner = undefined;
        const json = pythonLiteralToJson(text) ?? JSON.stringify(text.trim());
        this.args(`${this.params++ === 0 ? '{' : ', '}${JSON.stringify(this.key)}: ${json}`);
        this.state = 'arg';
        return true;
      }
      case 'close': {
        if (this.f.close && this.nextMarker([this.f.close], final) === undefined) return false;
        this.state = 'content';
        return true;
      }
    }
  }

  private closeCall(): void {
    this.args(this.params === 0 ? '{}' : '}');
    this.inCall = false;
  }

  /** Not (or no longer) a call list: what was read of it, if nothing was announced, and the rest are content. */
  private giveBack(): boolean {
    if (this.inCall) this.closeCall();
    if (this.announcedInList === 0) this.content(this.listText);
    this.listText = '';
    this.state = 'content';
    // Without markers there is no later list to find: everything else is content.
    if (!this.f.open) this.content(this.take(this.buf.length));
    return this.f.open !== undefined;
  }
}
