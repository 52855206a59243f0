/**
 * SentencePiece's precompiled normalization charsmap (`tokenizer.ggml.precompiled_charsmap`), as
 * llama.cpp reads it: a uint32 LE blob size, then that many bytes of XOR-compressed compact double array
 * (XCDA) entries keyed by UTF-8 bytes, then NUL-terminated replacement strings. Each uint32 entry packs
 * BASE (bits 10-30, shifted left 8 when bit 9 is set), LEAF (bit 8) and LCHECK (bits 0-7 and 31); a
 * leaf's BASE leads to the entry whose value (bits 0-30) is the offset of its replacement.
 * Inputs and outputs are byte strings (one char per byte).
 */
const latin1 = new TextDecoder('latin1');

export class CharsMap {
  private readonly xcda: Uint32Array;
  private readonly replacements: string;

  constructor(blob: Uint8Array) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    if (blob.length < 4) throw new Error('precompiled_charsmap is too small for its xcda_blob_size header');
    const size = view.getUint32(0, true);
    if (size + 4 >= blob.length) throw new Error('precompiled_charsmap: xcda_blob_size is past the end of the map');
    this.xcda = Uint32Array.from({ length: size >>> 2 }, (_, i) => view.getUint32(4 + 4 * i, true));
    this.replacements = latin1.decode(blob.subarray(4 + size));
  }

  private node(i: number): number {
    const n = this.xcda[i];
    if (n === undefined) throw new Error('precompiled_charsmap: index out of the XCDA array');
    return n;
  }
  private base(i: number): number {
    const n = this.node(i);
    return (n >>> 10) * (n & (1 << 9) ? 256 : 1);
  }

  /** [replacement, bytes consumed] of the longest input prefix at `at` the map has, if any. */
  longestMatch(input: string, at: number): [string, number] | undefined {
    let node = this.base(0);
    let length = 0;
    let offset = 0;
    for (let p = at; p < input.length; p++) {
      const c = input.charCodeAt(p);
      if (c === 0) break;
      node = (node ^ c) >>> 0;
      const packed = this.node(node);
      if ((packed & 0x800000ff) >>> 0 !== c) break; // LCHECK: not a child of the previous node
      const leaf = (packed >>> 8) & 1;
      node = (node ^ this.base(node)) >>> 0;
      if (leaf) {
        length = p - at + 1;
        offset = this.node(node) & 0x7fffffff;
      }
    }
    if (length === 0) return undefined;
    const end = this.replacements.indexOf('\0', offset);
    if (offset >= this.replacements.length || end === -1)
      throw new Error('precompiled_charsmap: replacement offset out of bounds or unterminated');
    return [this.replacements.slice(offset, end), length];
  }
}
