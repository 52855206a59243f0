import path from 'node:path';
import { SHARED_DIR } from '@loom/testing';
import { tokenizerDataFromGguf } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import type { VocabCard } from '../grammar-compilers.js';

export const STORIES_GGUF = path.join(SHARED_DIR, 'models', 'stories260K', 'stories260K-f32.gguf');
export const LLAMA2_VOCAB_GGUF = path.join(SHARED_DIR, 'models', 'llama-2-tiny-random.gguf');

/** What a worker's model card says about a GGUF's vocabulary; `padTo` widens the logits like a padded engine vocab. */
export function vocabCardFromGguf(file: string, padTo = 0): VocabCard {
  const tokenizer = tokenizerDataFromGguf(readGgufMetadata(file));
  return {
    tokenizer,
    vocabSize: Math.max(padTo, tokenizer.tokens.length),
    eosTokenIds: tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId],
  };
}
