import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { checkTokenIds, toSamplingParams } from '../generation/sampling-request.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { completionFormat } from './completion-format.js';
import { DEFAULT_COMPLETION_MAX_TOKENS, completionRequestSchema, promptOf, rejectUnsupportedCompletion } from './completion-request.js';

@Controller('v1')
export class CompletionsController {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
  ) {}

  @Post('completions')
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(completionRequestSchema, raw);
    rejectUnsupportedCompletion(body);
    const card = await this.generation.resolveModel(body.model);
    checkTokenIds(body, card.vocabSize);

    const prompt = promptOf(body);
    let ids: number[];
    if ('text' in prompt) {
      ids = this.tokenizers.encodePrompt(card, prompt.text);
    } else {
      ids = prompt.ids;
      const bad = ids.find((id) => id >= card.vocabSize);
      if (bad !== undefined) throw ApiError.invalid(`Token id ${bad} is out of range (vocabulary size ${card.vocabSize}).`, 'prompt');
    }
    const maxTokens = body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS;
    this.generation.checkContext(card, ids.length, maxTokens, 'prompt');
    const echo = body.echo ? ('text' in prompt ? prompt.text : this.tokenizers.decode(card, ids)) : undefined;

    await this.generation.run(req, reply, {
      endpoint: 'completions',
      requestId: newRequestId('cmpl'),
      card,
      promptTokenIds: ids,
      sampling: toSamplingParams(body, maxTokens, body.logprobs ?? null),
      n: body.n ?? 1,
      priority: body.priority ?? 0,
      cacheSalt: body.cache_salt ?? undefined,
      sessionId: body.session_id ?? undefined,
      stream: body.stream ?? false,
      includeUsage: body.stream_options?.include_usage ?? false,
      format: completionFormat(echo, body.logprobs == null ? undefined : this.tokenizers.logprobsOptions(card, body.logprobs)),
      arrivedAt,
    });
  }
}
