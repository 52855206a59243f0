import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelCard } from '@loom/common';
import { chatTemplateFromGguf, endOfGenerationIds, tokenizerDataFromGguf } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';

/** The repo's shared folder (models, specs), next to the checkout. */
export const SHARED_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  '..',
  'shared',
);

/** A ModelCard as a worker would publish it, read from a real GGUF (tokenizer, template, context length). */
export function modelCardFromGguf(file: string, modelId: string): ModelCard {
  const meta = readGgufMetadata(file);
  const tokenizer = tokenizerDataFromGguf(meta);
  const arch = meta.getString('general.architecture') ?? 'llama';
  const chatTemplate = chatTemplateFromGguf(meta);
  return {
    modelId,
    architecture: arch,
    contextLength: meta.getNumber(`${arch}.context_length`) ?? 2048,
    vocabSize: tokenizer.tokens.length,
    eosTokenIds: endOfGenerationIds(tokenizer),
    tokenizer,
    ...(chatTemplate ? { chatTemplate } : {}),
    createdAt: Date.now(),
  };
}
