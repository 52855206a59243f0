import { at } from '@loom/common';
/**
 * Finds where one JSON value ends in text that arrives in pieces, without parsing it: strings
 * (with escapes), nesting of objects and arrays, and scalars (a scalar ends at the first character
 * that cannot continue it, which is not part of the value). Leading whitespace is the caller's.
 */
export class JsonValueScanner {
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private scalar = false;
  /** The value is complete. */
  done = false;
  /** The text is not JSON here (an unbalanced closer, or a character no value starts with). */
  invalid = false;

  /** Consumes characters of `text` that belong to the value; returns how many (less than text.length once done). */
  feed(text: string): number {
    let i = 0;
    for (; i < text.length && !this.done && !this.invalid; i++) {
      const c = at(text, i);
      if (!this.started) {
        this.started = true;
        if (c === '{' || c === '[') this.depth = 1;
        else if (c === '"') this.inString = true;
        else if (/[-0-9tfn]/.test(c)) this.scalar = true;
        else {
          this.invalid = true;
          return i;
        }
        continue;
      }
      if (this.scalar) {
        if (/[-+.0-9a-zA-Z]/.test(c)) continue;
        this.done = true;
        return i; // the delimiter is not the value's
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === '\\') this.escape = true;
        else if (c === '"') {
          this.inString = false;
          if (this.depth === 0) this.done = true;
        }
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) this.done = true;
      }
    }
    return i;
  }

  /** No more text will come: a scalar ends here. */
  end(): void {
    if (this.scalar) this.done = true;
  }
}
