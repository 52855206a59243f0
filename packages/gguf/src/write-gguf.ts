/**
 * GGUF v3 writer, the inverse of readGgufMetadata: used to synthesise models (random weights in a real
 * model's shape) and test files. Tensor data is written tensor by tensor, so a generator callback can
 * stream GBs without holding them in memory.
 *
 * Types: a key listed in `types` is written with that exact GGUF type (pass `GgufMetadata.types` to
 * round-trip a file). Otherwise it is inferred: string → STRING, boolean → BOOL, integer number →
 * UINT32 (INT32 if negative, 64-bit beyond 32 bits), other number → FLOAT32, bigint → UINT64/INT64,
 * array → ARRAY of the type inferred from all its items (integers → INT32, empty → INT32).
 */
import * as fs from 'node:fs';
import { at as entryAt } from '@loom/common'; // `at` names the writer's byte offsets here
import { ggmlTensorBytes } from './ggml-type.js';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  readGgufMetadata,
  type GgufTypeInfo,
  type GgufValue,
} from './gguf-metadata.js';

export interface GgufTensorToWrite {
  name: string;
  /** ggml order: shape[0] is the contiguous dimension. */
  shape: number[];
  /** ggml type id. */
  type: number;
  /** Exactly ggmlTensorBytes(type, shape) bytes, either at once or pushed in chunks to `write`. */
  data: Uint8Array | ((write: (chunk: Uint8Array) => void) => void);
}

export interface GgufToWrite {
  metadata: Map<string, GgufValue> | Record<string, GgufValue>;
  types?: Map<string, GgufTypeInfo> | Record<string, GgufTypeInfo>;
  tensors?: GgufTensorToWrite[];
}

function inferType(v: GgufValue): GgufTypeInfo {
  if (typeof v === 'string') return { type: GgufValueType.STRING };
  if (typeof v === 'boolean') return { type: GgufValueType.BOOL };
  if (typeof v === 'bigint') return { type: v < 0n ? GgufValueType.INT64 : GgufValueType.UINT64 };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { type: GgufValueType.FLOAT32 };
    if (v >= 0) return { type: v <= 0xffffffff ? GgufValueType.UINT32 : GgufValueType.UINT64 };
    return { type: v >= -0x80000000 ? GgufValueType.INT32 : GgufValueType.INT64 };
  }
  const [first] = v;
  if (first === undefined) return { type: GgufValueType.ARRAY, item: { type: GgufValueType.INT32 } };
  if (v.every((x) => typeof x === 'number')) {
    const nums = v as number[];
    if (nums.every(Number.isInteger)) {
      const fits = nums.every((x) => x >= -0x80000000 && x <= 0x7fffffff);
      return { type: GgufValueType.ARRAY, item: { type: fits ? GgufValueType.INT32 : GgufValueType.INT64 } };
    }
    return { type: GgufValueType.ARRAY, item: { type: GgufValueType.FLOAT32 } };
  }
  return { type: GgufValueType.ARRAY, item: inferType(first) };
}

/** Growable little-endian byte sink for the header part. room() may replace buf, so it is called before buf is read. */
class Sink {
  buf = Buffer.alloc(1 << 16);
  len = 0;
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  u8(v: number) {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  i8(v: number) {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
  }
  u16(v: number) {
    const at = this.room(2);
    this.buf.writeUInt16LE(v, at);
  }
  i16(v: number) {
    const at = this.room(2);
    this.buf.writeInt16LE(v, at);
  }
  u32(v: number) {
    const at = this.room(4);
    this.buf.writeUInt32LE(v, at);
  }
  i32(v: number) {
    const at = this.room(4);
    this.buf.writeInt32LE(v, at);
  }
  f32(v: number) {
    const at = this.room(4);
    this.buf.writeFloatLE(v, at);
  }
  f64(v: number) {
    const at = this.room(8);
    this.buf.writeDoubleLE(v, at);
  }
  u64(v: number | bigint) {
    const at = this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), at);
  }
  i64(v: number | bigint) {
    const at = this.room(8);
    this.buf.writeBigInt64LE(BigInt(v), at);
  }
  str(s: string) {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    const at = this.room(bytes.length);
    bytes.copy(this.buf, at);
  }
}

function writeValue(s: Sink, v: GgufValue, t: GgufTypeInfo, key: string): void {
  const num = () => {
    if (typeof v !== 'number' && typeof v !== 'bigint')
      throw new Error(`GGUF key '${key}': ${String(v)} is not a number but its type is ${GgufValueType[t.type]}`);
    return Number(v);
  };
  switch (t.type) {
    case GgufValueType.UINT8:
      return s.u8(num());
    case GgufValueType.INT8:
      return s.i8(num());
    case GgufValueType.UINT16:
      return s.u16(num());
    case GgufValueType.INT16:
      return s.i16(num());
    case GgufValueType.UINT32:
      return s.u32(num());
    case GgufValueType.INT32:
      return s.i32(num());
    case GgufValueType.FLOAT32:
      return s.f32(num());
    case GgufValueType.FLOAT64:
      return s.f64(num());
    case GgufValueType.UINT64:
      num();
      return s.u64(v as number | bigint);
    case GgufValueType.INT64:
      num();
      return s.i64(v as number | bigint);
    case GgufValueType.BOOL:
      return s.u8(v ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof v !== 'string') throw new Error(`GGUF key '${key}': ${String(v)} is not a string`);
      return s.str(v);
    case GgufValueType.ARRAY: {
      if (!Array.isArray(v)) throw new Error(`GGUF key '${key}': value is not an array but its type is ARRAY`);
      const item = t.item ?? inferType(v).item!;
      s.u32(item.type);
      s.u64(v.length);
      for (const x of v) writeValue(s, x, item, key);
      return;
    }
  }
}

function entries<T>(m: Map<string, T> | Record<string, T> | undefined): Map<string, T> {
  if (!m) return new Map();
  return m instanceof Map ? m : new Map(Object.entries(m));
}

/** Writes a GGUF v3 file. The data alignment is `general.alignment` when present, else 32. */
export function writeGguf(path: string, file: GgufToWrite): void {
  const metadata = entries(file.metadata);
  const types = entries(file.types);
  const tensors = file.tensors ?? [];
  const alignment = metadata.has('general.alignment')
    ? Number(metadata.get('general.alignment'))
    : GGUF_DEFAULT_ALIGNMENT;
  const align = (n: number) => Math.ceil(n / alignment) * alignment;

  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(tensors.length);
  s.u64(metadata.size);
  for (const [key, value] of metadata) {
    const t = types.get(key) ?? inferType(value);
    s.str(key);
    s.u32(t.type);
    writeValue(s, value, t, key);
  }
  const sizes = tensors.map((t) => ggmlTensorBytes(t.type, t.shape));
  let offset = 0;
  tensors.forEach((t, i) => {
    s.str(t.name);
    s.u32(t.shape.length);
    for (const d of t.shape) s.u64(d);
    s.u32(t.type);
    s.u64(offset);
    offset = align(offset + entryAt(sizes, i));
  });

  const fd = fs.openSync(path, 'w');
  try {
    let pos = 0;
    const put = (chunk: Uint8Array) => {
      let done = 0;
      while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done, pos + done);
      pos += chunk.length;
    };
    const pad = () => {
      if (pos % alignment !== 0) put(new Uint8Array(alignment - (pos % alignment)));
    };
    put(s.buf.subarray(0, s.len));
    pad();
    tensors.forEach((t, i) => {
      const start = pos;
      if (typeof t.data === 'function') t.data(put);
      else put(t.data);
      if (pos - start !== sizes[i])
        throw new Error(
          `tensor ${t.name}: got ${pos - start} bytes of data, expected ${sizes[i]} for type ${t.type} shape [${t.shape.join(', ')}]`,
        );
      if (i < tensors.length - 1) pad();
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A copy of the GGUF at `src` with `metadata` keys set (added, or replacing the file's, types inferred as
 * writeGguf does) and every tensor byte for byte: test variants of a model, e.g. with another
 * `<arch>.pooling_type`. Each tensor is read from the file as it is written.
 */
export function copyGgufWithMetadata(src: string, dst: string, metadata: Record<string, GgufValue>): void {
  const meta = readGgufMetadata(src);
  const md = new Map(meta.metadata);
  const types = new Map(meta.types);
  for (const [k, v] of Object.entries(metadata)) {
    md.set(k, v);
    types.delete(k);
  }
  const fd = fs.openSync(src, 'r');
  try {
    writeGguf(dst, {
      metadata: md,
      types,
      tensors: meta.tensors.map((t) => {
        if (t.byteSize === undefined) throw new Error(`${src}: tensor ${t.name} has a type this copier cannot size`);
        const size = t.byteSize;
        return {
          name: t.name,
          shape: [...t.shape],
          type: t.type,
          data: (write: (chunk: Uint8Array) => void) => {
            const buf = Buffer.alloc(size);
            fs.readSync(fd, buf, 0, size, t.fileOffset);
            write(buf);
          },
        };
      }),
    });
  } finally {
    fs.closeSync(fd);
  }
}
