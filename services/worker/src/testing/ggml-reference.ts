/**
 * ggml itself as the oracle for quantised bytes (not a test file): node-llama-cpp's prebuilt
 * libggml-base.so (the build that runs llama.cpp in the tests) called through koffi's FFI.
 * ggmlReferenceQuantize is ggml_quantize_chunk without an importance matrix, i.e. what llama-quantize
 * writes; ggmlReferenceDequantize is ggml's dequantize_row_<type>.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import { ggmlQuantLayout, type GgmlQuantType } from '@loom/gguf';

type QuantizeChunk = (
  type: number,
  src: Float32Array,
  dst: Uint8Array,
  start: number,
  nrows: number,
  nPerRow: number,
  imatrix: null,
) => number;
type DequantizeRow = (src: Uint8Array, dst: Float32Array, k: number) => void;

let lib: LibraryHandle | undefined;
let quantizeChunk: QuantizeChunk | undefined;
const dequantizeRow = new Map<GgmlQuantType, DequantizeRow>();

function ggmlBase(): LibraryHandle {
  if (lib) return lib;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`ggml's reference library is located for linux-x64 only, not ${process.platform}-${process.arch}`);
  const require = createRequire(import.meta.url);
  const nlc = path.dirname(require.resolve('node-llama-cpp'));
  // The platform package's entry is dist/index.js; its binaries sit in bins/linux-x64 beside dist.
  const entry = require.resolve('@node-llama-cpp/linux-x64', { paths: [nlc] });
  lib = koffi.load(path.join(path.dirname(entry), '..', 'bins', 'linux-x64', 'libggml-base.so'));
  return lib;
}

/** ggml's bytes for `values` as rows of `perRow` values (a multiple of the type's block size) in `type`. */
export function ggmlReferenceQuantize(type: GgmlQuantType, values: Float32Array, perRow: number): Uint8Array {
  const { id, blockSize, blockBytes } = ggmlQuantLayout(type);
  if (perRow % blockSize !== 0 || values.length % perRow !== 0)
    throw new Error(`${type}: ${values.length} values in rows of ${perRow} are not whole ${blockSize}-value blocks`);
  quantizeChunk ??= ggmlBase().func(
    'size_t ggml_quantize_chunk(int type, const float* src, _Out_ uint8_t* dst, int64_t start, int64_t nrows, int64_t n_per_row, const float* imatrix)',
  ) as QuantizeChunk;
  const out = new Uint8Array((values.length / blockSize) * blockBytes);
  quantizeChunk(id, values, out, 0, values.length / perRow, perRow, null);
  return out;
}

/** ggml's values for `bytes` of `type` (dequantize_row_<type>). */
export function ggmlReferenceDequantize(type: GgmlQuantType, bytes: Uint8Array): Float32Array {
  const { blockSize, blockBytes } = ggmlQuantLayout(type);
  let fn = dequantizeRow.get(type);
  if (!fn) {
    fn = ggmlBase().func(`void dequantize_row_${type}(const uint8_t* x, _Out_ float* y, int64_t k)`) as DequantizeRow;
    dequantizeRow.set(type, fn);
  }
  const out = new Float32Array((bytes.length / blockBytes) * blockSize);
  fn(bytes, out, out.length);
  return out;
}
