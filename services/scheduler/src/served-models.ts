import type { Redis } from 'ioredis';
import { modelCardKey, type ModelCard } from '@loom/common';
import { Tokenizer } from '@loom/tokenizer';
import type { ServedModel } from './served-model.js';

/**
 * Model cards published by workers, turned into tokenizers once and kept. Jobs arriving together
 * share one load (a burst of 256 used to parse the card and build the tokenizer 256 times).
 */
export class ServedModels {
  private readonly cache = new Map<string, Promise<ServedModel | undefined>>();

  constructor(private readonly redis: Redis) {}

  get(modelId: string): Promise<ServedModel | undefined> {
    const hit = this.cache.get(modelId);
    if (hit) return hit;
    const loading = this.load(modelId);
    this.cache.set(modelId, loading);
    // Not published yet, or Redis failed: the next job asks again.
    loading.then(
      (m) => m ?? this.cache.delete(modelId),
      () => this.cache.delete(modelId),
    );
    return loading;
  }

  private async load(modelId: string): Promise<ServedModel | undefined> {
    const raw = await this.redis.get(modelCardKey(modelId));
    if (!raw) return undefined;
    const card = JSON.parse(raw) as ModelCard;
    const model: ServedModel = {
      card,
      tokenizer: Tokenizer.fromData(card.tokenizer),
      eosTokenIds: card.eosTokenIds,
      contextLength: card.contextLength,
    };
    return model;
  }
}
