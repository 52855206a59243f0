export * from './ggml-type.js';
export * from './gguf-metadata.js';
export * from './write-gguf.js';
export * from './model-gguf-layout.js';
export * from './ggml-quant.js';
export * from './llama-file-type.js';
