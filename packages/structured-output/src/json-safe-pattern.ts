import { at } from '@loom/common';
/** One character-producing atom of a pattern, as far as JSON safety goes. */
type Atom = { cp: number } | { safeClass: true } | { refused: string };

/**
 * Whether a JSON Schema `pattern` can only produce characters a JSON string may hold unescaped.
 *
 * xgrammar 0.1.27 writes a string's pattern into the JSON grammar as is, between the quotes, without
 * JSON's escaping: a pattern whose matches may contain `"`, `\` or a control character (`.`, a negated
 * class, `\s`, ...) would let the output break out of its string, or end in text that is no JSON. Such
 * patterns are refused; a pattern that spells its characters out (`^[A-Z]{3}-\d{4}$`) is fine.
 * Conservative by construction: it looks at what each atom could produce, not at the whole language.
 * Returns why the pattern is refused, or null.
 */
export function jsonUnsafePatternReason(pattern: string): string | null {
  const unsafe = (c: number) => c < 0x20 || c === 0x22 || c === 0x5c;
  const bad = (what: string) => `${what} may produce a quote, a backslash or a control character`;
  let i = 0;
  /** An escape after `\` at i: a code point, a safe class (`\d`, `\w`), or why it is refused. */
  const escape = (): Atom => {
    const c = pattern[i++];
    if (c === undefined) return { refused: 'the pattern ends in a lone backslash' };
    if (c === 'd' || c === 'w') return { safeClass: true };
    if ('DWSs'.includes(c)) return { refused: bad(`'\\${c}'`) };
    if ('nrtfv0'.includes(c)) return { refused: bad(`'\\${c}'`) };
    if (c === 'b' || c === 'B') return { refused: `'\\${c}' (word boundaries) is not supported` };
    if (c === 'x' || c === 'u') {
      const n = c === 'x' ? 2 : 4;
      const hex = pattern.slice(i, i + n);
      if (hex.length !== n || !/^[0-9A-Fa-f]+$/.test(hex)) return { refused: `'\\${c}' needs ${n} hex digits` };
      i += n;
      return { cp: parseInt(hex, 16) };
    }
    return { cp: c.codePointAt(0)! };
  };
  const literal = (): Atom => {
    if (pattern[i] !== '\\') return { cp: pattern.codePointAt(i++)! };
    i++;
    return escape();
  };
  while (i < pattern.length) {
    const c = at(pattern, i++);
    if (c === '.') return bad("'.'");
    if (c === '\\') {
      const e = escape();
      if ('refused' in e) return e.refused;
      if ('cp' in e && unsafe(e.cp)) return bad('an escaped character');
      continue;
    }
    if (c === '[') {
      if (pattern[i] === '^') return bad('a negated class');
      let first = true;
      let prev: number | null = null;
      while (i < pattern.length && (pattern[i] !== ']' || first)) {
        first = false;
        const isDash = pattern[i] === '-';
        const a = literal();
        if ('refused' in a) return a.refused;
        if ('safeClass' in a) {
          prev = null;
          continue;
        }
        if (isDash && prev !== null && pattern[i] !== ']') {
          // A range prev-hi.
          const hi = literal();
          if ('refused' in hi) return hi.refused;
          if (!('cp' in hi)) return 'a class cannot end a range';
          for (const u of [0x22, 0x5c]) if (prev <= u && u <= hi.cp) return bad('a range in a class');
          if (prev < 0x20) return bad('a range in a class');
          prev = null;
          continue;
        }
        if (unsafe(a.cp)) return bad('a character in a class');
        prev = a.cp;
      }
      if (pattern[i] !== ']') return 'a class is not closed';
      i++;
      continue;
    }
    if (unsafe(c.codePointAt(0)!)) return bad('a literal character');
  }
  return null;
}
