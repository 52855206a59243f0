import { JsonValueScanner } from './json-value-scanner.js';
import { at } from '@loom/common';

/** Where a reader announces calls and their argument text. */
export interface CallSink {
  start(name: string): void;
  args(text: string): void;
}

export interface JsonCallOptions {
  /** Keys that may hold the function name, and the arguments. */
  nameKeys: readonly string[];
  argsKeys: readonly string[];
  /** `[{...}, {...}]` (several calls) as well as a single `{...}`; 'only' refuses a bare object. */
  array: 'allow' | 'only' | 'never';
  /** The first key must be a name key, else the text is not a call (Llama 3.x writes JSON answers too). */
  nameFirst?: boolean;
}

type State = 'start' | 'arrayNext' | 'key' | 'keyString' | 'colon' | 'value' | 'valueBody' | 'done' | 'failed';

/**
 * Reads tool calls written as JSON objects (`{"name": "f", "arguments": {...}}`, or an array of them)
 * as the text arrives: a call is announced as soon as its name is complete, and its arguments value
 * is passed on character by character, exactly as the model wrote it (so the pieces join to valid
 * JSON whenever the model's was). Arguments written before the name are held until it comes;
 * arguments written as a JSON string (`"arguments": "{\"a\": 1}"`) are passed on decoded, whole.
 * A call object without arguments gets `{}`.
 */
export class JsonCallReader {
  private state: State = 'start';
  private inArray = false;
  private key = '';
  private keyEscape = false;
  private scanner: JsonValueScanner | undefined;
  private valueRaw = '';
  private name: string | undefined;
  private argsSeen = false;
  private argsHeld = '';
  private firstKey = true;
  /** Every character consumed so far (to give back as content when the text turns out not to be a call). */
  raw = '';
  /** Calls announced by this reader. */
  announced = 0;

  constructor(
    private readonly sink: CallSink,
    private readonly opts: JsonCallOptions,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Consumes what it can of `text`; returns how many characters. Stops at the end of the JSON or where it fails. */
  feed(text: string, final: boolean): number {
    let i = 0;
    while (i < text.length && this.state !== 'done' && this.state !== 'failed') {
      const c = at(text, i);
      switch (this.state) {
        case 'start':
          if (/\s/.test(c)) break;
          if (c === '[' && this.opts.array !== 'never') {
            this.inArray = true;
            this.state = 'arrayNext';
          } else if (c === '{' && this.opts.array !== 'only') this.openCall();
          else return this.fail(i);
          break;
        case 'arrayNext':
          if (/\s/.test(c) || c === ',') break;
          if (c === ']') this.state = 'done';
          else if (c === '{') this.openCall();
          else return this.fail(i);
          break;
        case 'key':
          if (/\s/.test(c) || c === ',') break;
          if (c === '}') {
            if (!this.closeCall()) return this.fail(i);
          } else if (c === '"') {
            this.key = '"';
            this.keyEscape = false;
            this.state = 'keyString';
          } else return this.fail(i);
          break;
        case 'keyString':
          this.key += c;
          if (this.keyEscape) this.keyEscape = false;
          else if (c === '\\') this.keyEscape = true;
          else if (c === '"') {
            this.key = parseString(this.key) ?? '';
            if (this.opts.nameFirst && this.firstKey && !this.opts.nameKeys.includes(this.key)) return this.fail(i);
            this.firstKey = false;
            this.state = 'colon';
          }
          break;
        case 'colon':
          if (/\s/.test(c)) break;
          if (c !== ':') return this.fail(i);
          this.state = 'value';
          break;
        case 'value':
          if (/\s/.test(c)) break;
          this.scanner = new JsonValueScanner();
          this.valueRaw = '';
          this.state = 'valueBody';
          continue; // the scanner takes this character
        case 'valueBody': {
          const n = this.scanner!.feed(text.slice(i));
          if (this.scanner!.invalid) return this.fail(i + n);
          this.onValueText(text.slice(i, i + n));
          this.raw += text.slice(i, i + n);
          i += n;
          if (this.scanner!.done && !this.endValue()) return this.fail(i);
          continue;
        }
      }
      this.raw += c;
      i++;
    }
    if (final && this.state === 'valueBody') {
      this.scanner!.end();
      if (this.scanner!.done) this.endValue();
    }
    return i;
  }

  private fail(i: number): number {
    this.state = 'failed';
    return i;
  }

  private openCall(): void {
    this.name = undefined;
    this.argsSeen = false;
    this.argsHeld = '';
    this.firstKey = true;
    this.state = 'key';
  }

  /** The call object closed; false when it was not a call (no name). */
  private closeCall(): boolean {
    if (this.name === undefined) return false;
    if (!this.argsSeen) this.sink.args('{}');
    this.state = this.inArray ? 'arrayNext' : 'done';
    return true;
  }

  private isArgs(): boolean {
    return this.opts.argsKeys.includes(this.key) && !this.argsSeen;
  }

  private onValueText(s: string): void {
    this.valueRaw += s;
    // Arguments stream as they come once the call is announced, unless they are an encoded string.
    if (this.isArgs() && this.name !== undefined && this.valueRaw[0] !== '"') this.sink.args(s);
  }

  /** A value ended; false when a name is not a string. */
  private endValue(): boolean {
    this.state = 'key';
    if (this.opts.nameKeys.includes(this.key) && this.name === undefined) {
      const name = parseString(this.valueRaw);
      if (name === undefined) return false;
      this.name = name;
      this.announced++;
      this.sink.start(name);
      if (this.argsHeld) this.sink.args(this.argsHeld);
      return true;
    }
    if (this.isArgs()) {
      this.argsSeen = true;
      const encoded = this.valueRaw[0] === '"';
      const text = encoded ? (parseString(this.valueRaw) ?? this.valueRaw) : this.valueRaw;
      if (this.name === undefined) this.argsHeld = text;
      else if (encoded) this.sink.args(text);
    }
    return true;
  }
}

function parseString(raw: string): string | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
