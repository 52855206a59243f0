import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { checkDimensions, checkedInputIds, embeddingRequestSchema, inputsOf } from './embedding-request.js';
import { EmbeddingsService } from './embeddings.service.js';

@Controller('v1')
export class EmbeddingsController {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
    private readonly embeddings: EmbeddingsService,
  ) {}

  @Post('embeddings')
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(embeddingRequestSchema, raw);
    const inputs = inputsOf(body);
    const card = await this.generation.resolveModel(body.model);
    const type = card.pooling ?? 'last';
    if (type === 'rank')
      throw ApiError.unsupported(
        'model',
        `The model '${card.modelId}' pools for ranking (a classification head); it does not serve embeddings.`,
      );
    const dimensions = checkDimensions(body, card);
    const addSpecial = body.add_special_tokens ?? true;
    const ids = checkedInputIds(
      body,
      card,
      inputs.map((x) => ('text' in x ? this.tokenizers.encodePrompt(card, x.text, addSpecial) : x.ids)),
    );
    await this.embeddings.run(req, reply, {
      requestId: newRequestId('embd'),
      card,
      inputs: ids,
      pooling: { type, normalize: body.normalize ?? true, ...(dimensions !== undefined ? { dimensions } : {}) },
      encodingFormat: body.encoding_format ?? 'float',
      priority: body.priority,
      cacheSalt: body.cache_salt,
      arrivedAt,
    });
  }
}
