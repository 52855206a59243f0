import { readGgufMetadata, tokenizerDataFromGguf, chatTemplateFromGguf } from '@loom/tokenizer';
import type { ModelCard } from '@loom/common';
import type { EngineModelInfo } from './engine/engine-api.js';

/**
 * What clients of this model need without its weights: the tokenizer, the chat template, the
 * context window and the ids that end generation (EOS, and EOT where the model has one).
 */
export function buildModelCard(modelPath: string, modelId: string, info: EngineModelInfo): ModelCard {
  const meta = readGgufMetadata(modelPath);
  const tokenizer = tokenizerDataFromGguf(meta);
  const eos = [tokenizer.eosTokenId, tokenizer.eotTokenId].filter((x): x is number => x !== undefined && x >= 0);
  return {
    modelId,
    architecture: info.architecture,
    contextLength: info.contextLength,
    vocabSize: info.vocabSize,
    eosTokenIds: [...new Set(eos)],
    tokenizer,
    chatTemplate: chatTemplateFromGguf(meta),
    createdAt: Math.floor(Date.now() / 1000),
  };
}
