import { Controller, Get, Inject, Param } from '@nestjs/common';
import type { ModelCard } from '@loom/common';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { ApiError } from '../errors/api-error.js';
import { BACKEND } from '../di-tokens.js';

/** OpenAI's Model object, plus vLLM's max_model_len (clients use it to budget prompts). */
export function modelObject(card: ModelCard) {
  return {
    id: card.modelId,
    object: 'model' as const,
    created: Math.floor(card.createdAt / 1000),
    owned_by: 'loom',
    max_model_len: card.contextLength,
  };
}

@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(BACKEND) private readonly backend: InferenceBackend) {}

  @Get()
  async list() {
    const cards = await this.backend.listModels();
    return { object: 'list', data: cards.map(modelObject) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const card = await this.backend.getModel(id);
    if (!card) throw ApiError.modelNotFound(id);
    return modelObject(card);
  }
}
