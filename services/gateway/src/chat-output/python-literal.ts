import { at } from '@loom/common';
/**
 * Python literals as pythonic tool calls write them (`f(city="Paris", days=3, opts={'a': [1, True]})`):
 * finding where one ends in streamed text, and turning a whole one into JSON.
 */

/** Finds the end of one Python literal, like JsonValueScanner does for JSON. */
export class PythonValueScanner {
  private depth = 0;
  private quote = '';
  private escape = false;
  private started = false;
  done = false;

  /** Consumes characters of `text` that belong to the value; returns how many. */
  feed(text: string): number {
    let i = 0;
    for (; i < text.length && !this.done; i++) {
      const c = at(text, i);
      if (this.quote) {
        if (this.escape) this.escape = false;
        else if (c === '\\') this.escape = true;
        else if (c === this.quote) {
          this.quote = '';
          if (this.depth === 0) this.done = true;
        }
        continue;
      }
      if (!this.started && /\s/.test(c)) continue;
      if (c === '"' || c === "'") this.quote = c;
      else if (c === '[' || c === '{' || c === '(') this.depth++;
      else if (c === ']' || c === '}' || c === ')') {
        if (this.depth === 0) {
          this.done = true; // the caller's closer
          return i;
        }
        if (--this.depth === 0) {
          this.started = true;
          this.done = true;
          return i + 1;
        }
      } else if (c === ',' && this.depth === 0) {
        this.done = true;
        return i;
      }
      this.started = true;
    }
    return i;
  }

  end(): void {
    this.done = true;
  }
}

/** The JSON text of a Python literal; undefined when it is not one. */
export function pythonLiteralToJson(text: string): string | undefined {
  const p = new LiteralParser(text.trim());
  try {
    const v = p.value();
    p.space();
    return p.atEnd() ? JSON.stringify(v) : undefined;
  } catch {
    return undefined;
  }
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  space(): void {
    while (this.i < this.s.length && /\s/.test(at(this.s, this.i))) this.i++;
  }

  value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.string(c);
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')');
    if (c === '{') return this.dict();
    const m = /^(True|False|None|null|true|false|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(this.s.slice(this.i));
    if (!m) throw new Error('not a literal');
    this.i += m[0].length;
    if (m[0] === 'True' || m[0] === 'true') return true;
    if (m[0] === 'False' || m[0] === 'false') return false;
    if (m[0] === 'None' || m[0] === 'null') return null;
    return Number(m[0]);
  }

  private string(q: string): string {
    let out = '';
    this.i++;
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) throw new Error('unterminated string');
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (e === 'u' || e === 'x') {
        const len = e === 'u' ? 4 : 2;
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + len), 16));
        this.i += len;
      } else out += simple[e!] ?? `\\${e}`;
    }
  }

  private list(close: string): unknown[] {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error('bad list');
    }
  }

  private dict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value();
      this.space();
      if (this.s[this.i++] !== ':') throw new Error('bad dict');
      out[String(k)] = this.value();
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error('bad dict');
    }
  }
}
