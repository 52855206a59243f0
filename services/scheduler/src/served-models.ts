import type { Redis } from 'ioredis';
import { modelCardKey, type ModelCard } from '@loom/common';
import { Tokenizer } from '@loom/tokenizer';
import type { ServedModel } from './request-manager.js';

/** Model cards published by workers, turned into tokenizers once and kept. */
export class ServedModels {
  private readonly cache = new Map<string, ServedModel>();

  constructor(private readonly redis: Redis) {}

  async get(modelId: string): Promise<ServedModel | undefined> {
    const hit = this.cache.get(modelId);
    if (hit) return hit;
    const raw = await this.redis.get(modelCardKey(modelId));
    if (!raw) return undefined;
    const card = JSON.parse(raw) as ModelCard;
    const model: ServedModel = {
      card,
      tokenizer: Tokenizer.fromData(card.tokenizer),
      eosTokenIds: card.eosTokenIds,
      contextLength: card.contextLength,
    };
    this.cache.set(modelId, model);
    return model;
  }
}
