import * as fs from 'node:fs';

/** Bytes read from the file at a time (the buffer grows for a longer value). */
const CHUNK = 1 << 20;

/** Sequential little-endian reader over a file descriptor with a growable chunk buffer. */
export class ChunkReader {
  private buf = Buffer.alloc(CHUNK);
  private bufStart = 0;
  private bufLen = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    /** Named in every error. */
    private readonly path: string,
    private readonly fileSize: number,
  ) {}

  private ensure(n: number): number {
    let at = this.pos - this.bufStart;
    if (at + n <= this.bufLen) return at;
    if (this.pos + n > this.fileSize) {
      throw new Error(
        `${this.path}: truncated GGUF: needs ${n} bytes at offset ${this.pos} but the file has ${this.fileSize} bytes; re-download or re-convert it`,
      );
    }
    if (n > this.buf.length) this.buf = Buffer.alloc(Math.max(n, this.buf.length * 2));
    this.bufStart = this.pos;
    this.bufLen = fs.readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.fileSize - this.pos), this.pos);
    if (this.bufLen < n)
      throw new Error(
        `${this.path}: short read at offset ${this.pos} of a ${this.fileSize}-byte file: it changed while it was read; ` +
          'read it again once nothing is writing it',
      );
    at = 0;
    return at;
  }

  u8(): number {
    const a = this.ensure(1);
    this.pos += 1;
    return this.buf.readUInt8(a);
  }
  i8(): number {
    const a = this.ensure(1);
    this.pos += 1;
    return this.buf.readInt8(a);
  }
  u16(): number {
    const a = this.ensure(2);
    this.pos += 2;
    return this.buf.readUInt16LE(a);
  }
  i16(): number {
    const a = this.ensure(2);
    this.pos += 2;
    return this.buf.readInt16LE(a);
  }
  u32(): number {
    const a = this.ensure(4);
    this.pos += 4;
    return this.buf.readUInt32LE(a);
  }
  i32(): number {
    const a = this.ensure(4);
    this.pos += 4;
    return this.buf.readInt32LE(a);
  }
  f32(): number {
    const a = this.ensure(4);
    this.pos += 4;
    return this.buf.readFloatLE(a);
  }
  f64(): number {
    const a = this.ensure(8);
    this.pos += 8;
    return this.buf.readDoubleLE(a);
  }
  u64(): bigint {
    const a = this.ensure(8);
    this.pos += 8;
    return this.buf.readBigUInt64LE(a);
  }
  i64(): bigint {
    const a = this.ensure(8);
    this.pos += 8;
    return this.buf.readBigInt64LE(a);
  }

  /** A u64 used as a count or length: must fit in a JS number. */
  count(what: string): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt(`${what} ${v} at offset ${this.pos - 8}`);
    return Number(v);
  }

  string(): string {
    const len = this.count('string length');
    const a = this.ensure(len);
    this.pos += len;
    return this.buf.toString('utf8', a, a + len);
  }

  /** A damaged file's error: its path, what is wrong and where, and the fix (a fresh copy). */
  corrupt(what: string): Error {
    return new Error(`${this.path}: corrupt GGUF: ${what}; re-download or re-convert it`);
  }
}
