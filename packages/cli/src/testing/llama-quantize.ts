/**
 * llama.cpp's own quantiser as an oracle (not a test file): llama_model_quantize of node-llama-cpp's prebuilt
 * libllama (the build that runs llama.cpp in the tests) called through koffi's FFI, with llama-quantize's
 * defaults (no importance matrix, no overrides), so the file it writes is what `llama-quantize IN OUT FTYPE`
 * writes. Linux x64 only, as the other ggml oracles.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import koffi from 'koffi';
import { LLAMA_FTYPE_ID, type LlamaFileType } from '@loom/gguf';

interface QuantizeParams {
  nthread: number;
  ftype: number;
}
interface Llama {
  quantize: (src: string, dst: string, params: QuantizeParams) => number;
  defaults: () => QuantizeParams;
}

let llama: Llama | undefined;

function load(): Llama {
  if (llama) return llama;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `llama.cpp's reference library is located for linux-x64 only, not ${process.platform}-${process.arch}`,
    );
  const require = createRequire(import.meta.url);
  const nlc = path.dirname(require.resolve('node-llama-cpp'));
  const bins = path.join(
    path.dirname(require.resolve('@node-llama-cpp/linux-x64', { paths: [nlc] })),
    '..',
    'bins',
    'linux-x64',
  );
  for (const dep of ['libggml-base.so', 'libggml.v0.5.0.so']) koffi.load(path.join(bins, dep));
  const lib = koffi.load(path.join(bins, 'libllama.v0.5.0.so'));
  // include/llama.h of that tree, field for field.
  koffi.struct('llama_model_quantize_params', {
    nthread: 'int32_t',
    ftype: 'int',
    output_tensor_type: 'int',
    token_embedding_type: 'int',
    allow_requantize: 'bool',
    quantize_output_tensor: 'bool',
    only_copy: 'bool',
    pure: 'bool',
    keep_split: 'bool',
    dry_run: 'bool',
    imatrix: 'void*',
    kv_overrides: 'void*',
    tt_overrides: 'void*',
    prune_layers: 'void*',
    max_buf_size: 'size_t',
  });
  llama = {
    defaults: lib.func('llama_model_quantize_params llama_model_quantize_default_params()') as Llama['defaults'],
    quantize: lib.func(
      'uint32_t llama_model_quantize(const char* fname_inp, const char* fname_out, const llama_model_quantize_params* params)',
    ) as Llama['quantize'],
  };
  return llama;
}

/** Writes `dst`: the GGUF `src` (f32 / f16 weights) quantised by llama.cpp to `fileType`. Throws when llama.cpp fails. */
export function llamaQuantize(src: string, dst: string, fileType: LlamaFileType): void {
  const { quantize, defaults } = load();
  const rc = quantize(src, dst, { ...defaults(), ftype: LLAMA_FTYPE_ID[fileType], nthread: 1 });
  if (rc !== 0) throw new Error(`llama_model_quantize(${src}, ${fileType}) failed with ${rc}`);
}
