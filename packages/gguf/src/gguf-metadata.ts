/**
 * Pure-TS GGUF (v2/v3) reader of the header, metadata key/values and tensor infos.
 * It reads only the bytes it parses, in chunks through a file descriptor: a model file can be many GB
 * and the tensor data itself is never touched.
 *
 * Value mapping: integers and floats → number (64-bit integers → number when safe, else bigint),
 * bool → boolean, string → string (UTF-8), array → JS array of mapped values. The exact GGUF type of
 * every key is kept in `types` so a file can be written back unchanged (see write-gguf.ts).
 */
import * as fs from 'node:fs';
import { ggmlTensorBytes, ggmlTypeInfo } from './ggml-type.js';
import { ChunkReader } from './chunk-reader.js';

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** GGUF type of a value; `item` is set for arrays (and nests for arrays of arrays). */
export interface GgufTypeInfo {
  type: GgufValueType;
  item?: GgufTypeInfo;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: shape[0] is the innermost (contiguous) dimension. */
  shape: number[];
  /** ggml type id (see ggml-type.ts). */
  type: number;
  /** Byte offset relative to the start of the data section. */
  offset: number;
  /** Absolute byte offset in the file. */
  fileOffset: number;
  /** Size in bytes, undefined when the ggml type's layout is unknown here. */
  byteSize?: number;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;

export class GgufMetadata {
  constructor(
    readonly path: string,
    readonly version: number,
    readonly metadata: Map<string, GgufValue>,
    readonly types: Map<string, GgufTypeInfo>,
    readonly tensors: GgufTensorInfo[],
    readonly alignment: number,
    /** Absolute file offset of the tensor data section. */
    readonly dataOffset: number,
  ) {}

  get(key: string): GgufValue | undefined {
    return this.metadata.get(key);
  }

  getString(key: string): string | undefined {
    return this.typed(key, 'string', (v) => typeof v === 'string') as string | undefined;
  }

  getNumber(key: string): number | undefined {
    const v = this.typed(key, 'number', (x) => typeof x === 'number' || typeof x === 'bigint');
    return v === undefined ? undefined : Number(v);
  }

  getBool(key: string): boolean | undefined {
    return this.typed(key, 'boolean', (v) => typeof v === 'boolean') as boolean | undefined;
  }

  getArray(key: string): GgufValue[] | undefined {
    return this.typed(key, 'array', (v) => Array.isArray(v)) as GgufValue[] | undefined;
  }

  private typed(key: string, what: string, ok: (v: GgufValue) => boolean): GgufValue | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (!ok(v))
      throw new Error(
        `${this.path}: GGUF key '${key}' is not a ${what} (type ${GgufValueType[this.types.get(key)!.type]}); ` +
          `the file was written by an incompatible converter`,
      );
    return v;
  }
}

function narrow(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

function readType(r: ChunkReader): GgufValueType {
  const t = r.u32();
  if (!(t in GgufValueType)) throw r.corrupt(`unknown value type ${t} at offset ${r.pos - 4}`);
  return t as GgufValueType;
}

function readValue(r: ChunkReader, t: GgufValueType): { value: GgufValue; info: GgufTypeInfo } {
  switch (t) {
    case GgufValueType.UINT8:
      return { value: r.u8(), info: { type: t } };
    case GgufValueType.INT8:
      return { value: r.i8(), info: { type: t } };
    case GgufValueType.UINT16:
      return { value: r.u16(), info: { type: t } };
    case GgufValueType.INT16:
      return { value: r.i16(), info: { type: t } };
    case GgufValueType.UINT32:
      return { value: r.u32(), info: { type: t } };
    case GgufValueType.INT32:
      return { value: r.i32(), info: { type: t } };
    case GgufValueType.FLOAT32:
      return { value: r.f32(), info: { type: t } };
    case GgufValueType.BOOL:
      return { value: r.u8() !== 0, info: { type: t } };
    case GgufValueType.STRING:
      return { value: r.string(), info: { type: t } };
    case GgufValueType.UINT64:
      return { value: narrow(r.u64()), info: { type: t } };
    case GgufValueType.INT64:
      return { value: narrow(r.i64()), info: { type: t } };
    case GgufValueType.FLOAT64:
      return { value: r.f64(), info: { type: t } };
    case GgufValueType.ARRAY: {
      const itemType = readType(r);
      const n = r.count('array length');
      const out: GgufValue[] = new Array(n);
      let item: GgufTypeInfo = { type: itemType };
      for (let i = 0; i < n; i++) {
        const v = readValue(r, itemType);
        out[i] = v.value;
        if (i === 0) item = v.info;
      }
      return { value: out, info: { type: t, item } };
    }
  }
}

/** Reads header, metadata and tensor infos of the GGUF file at `path` (not the tensor data). */
export function readGgufMetadata(path: string): GgufMetadata {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new Error(`${path}: no such file; check the path`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const r = new ChunkReader(fd, path, size);
    if (size < 8)
      throw new Error(`${path}: not a GGUF file: only ${size} bytes (a download that stopped?); download it again`);
    const magic = r.u32();
    if (magic !== GGUF_MAGIC) {
      throw new Error(
        `${path}: not a GGUF file: bad magic 0x${magic.toString(16).padStart(8, '0')} (expected "GGUF"); ` +
          `convert the model with llama.cpp's convert_hf_to_gguf.py`,
      );
    }
    const version = r.u32();
    if (version !== 2 && version !== 3) {
      throw new Error(
        `${path}: unsupported GGUF version ${version} (supported: 2, 3); re-convert the model with a current llama.cpp`,
      );
    }
    const nTensors = r.count('tensor count');
    const nKv = r.count('metadata count');
    const metadata = new Map<string, GgufValue>();
    const types = new Map<string, GgufTypeInfo>();
    for (let i = 0; i < nKv; i++) {
      const key = r.string();
      const { value, info } = readValue(r, readType(r));
      metadata.set(key, value);
      types.set(key, info);
    }
    const alignment = metadata.has('general.alignment')
      ? Number(metadata.get('general.alignment'))
      : GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(alignment) || alignment <= 0)
      throw r.corrupt(`general.alignment = ${String(metadata.get('general.alignment'))}`);
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = r.string();
      const nDims = r.u32();
      const shape: number[] = [];
      for (let d = 0; d < nDims; d++) shape.push(r.count(`dimension of tensor ${name}`));
      const type = r.u32();
      const offset = r.count(`offset of tensor ${name}`);
      tensors.push({
        name,
        shape,
        type,
        offset,
        fileOffset: 0,
        byteSize: ggmlTypeInfo(type) ? ggmlTensorBytes(type, shape) : undefined,
      });
    }
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;
    for (const t of tensors) {
      t.fileOffset = dataOffset + t.offset;
      if (t.byteSize !== undefined && t.fileOffset + t.byteSize > size) {
        throw new Error(
          `${path}: truncated GGUF: tensor ${t.name} ends at ${t.fileOffset + t.byteSize} but the file has ${size} bytes; ` +
            're-download or re-convert it',
        );
      }
    }
    return new GgufMetadata(path, version, metadata, types, tensors, alignment, dataOffset);
  } finally {
    fs.closeSync(fd);
  }
}
