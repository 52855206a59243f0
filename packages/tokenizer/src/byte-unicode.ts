/**
 * GPT-2's reversible byte ↔ unicode mapping (bytes_to_unicode in openai/gpt-2 encoder.py): printable
 * Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order. Byte-level BPE
 * vocabularies store token texts in this alphabet (a space is 'Ġ' U+0120, a newline 'Ċ' U+010A).
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return out;
})();

/** Code point → byte, for code points of the mapping; other code points are absent. */
export const UNICODE_TO_BYTE: ReadonlyMap<number, number> = new Map(
  BYTE_TO_UNICODE.map((ch, b) => [ch.charCodeAt(0), b]),
);

const encoder = new TextEncoder();

/** The byte-level alphabet form of a string: one mapped char per UTF-8 byte. */
export function byteEncode(text: string): string {
  const bytes = encoder.encode(text);
  let out = '';
  for (const b of bytes) out += BYTE_TO_UNICODE[b];
  return out;
}

/**
 * Bytes a byte-level token text stands for. Code points outside the mapping (added tokens written in
 * plain text) contribute their own UTF-8 bytes.
 */
export function byteDecode(tokenText: string): Uint8Array {
  const out: number[] = [];
  for (const ch of tokenText) {
    const b = UNICODE_TO_BYTE.get(ch.codePointAt(0)!);
    if (b !== undefined) out.push(b);
    else out.push(...encoder.encode(ch));
  }
  return Uint8Array.from(out);
}
