export * from './ggml-type.js';
export * from './gguf-metadata.js';
export * from './write-gguf.js';
export * from './tokenizer-data.js';
export * from './tokenizer.js';
export { SUPPORTED_PRE_TOKENIZERS } from './bpe-pre-tokenizer.js';
export * from './incremental-detokenizer.js';
export * from './stop-checker.js';
export * from './chat-template.js';
