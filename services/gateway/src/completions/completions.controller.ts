import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { checkTokenIds, deliveryOf, toSamplingParams } from '../generation/sampling-request.js';
import { structuredOutputOf } from '../generation/structured-output-request.js';
import { StructuredOutputs } from '../generation/structured-outputs.service.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { completionFormat } from './completion-format.js';
import {
  DEFAULT_COMPLETION_MAX_TOKENS,
  completionRequestSchema,
  promptsOf,
  rejectUnsupportedCompletion,
} from './completion-request.js';
import { at } from '@loom/common';

@Controller('v1')
export class CompletionsController {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
    private readonly structuredOutputs: StructuredOutputs,
  ) {}

  @Post('completions')
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(completionRequestSchema, raw);
    rejectUnsupportedCompletion(body);
    const structured = structuredOutputOf(body);
    const card = await this.generation.resolveModel(body.model);
    checkTokenIds(body, card.vocabSize);

    const prompts = promptsOf(body);
    const maxTokens = body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS;
    const ids = prompts.map((p) => {
      if ('text' in p) return this.tokenizers.encodePrompt(card, p.text);
      const bad = p.ids.find((id) => id >= card.vocabSize);
      if (bad !== undefined)
        throw ApiError.invalid(`Token id ${bad} is out of range (vocabulary size ${card.vocabSize}).`, 'prompt');
      return p.ids;
    });
    for (const p of ids) this.generation.checkContext(card, p.length, maxTokens, 'prompt');
    const echo = body.echo
      ? prompts.map((p, k) => ({
          text: 'text' in p ? p.text : this.tokenizers.decode(card, at(ids, k)),
          ids: at(ids, k),
        }))
      : undefined;
    const logprobs = body.logprobs ?? null;
    const n = body.n ?? 1;
    // echo + logprobs: the echoed prompt's tokens get logprobs too (vLLM's prompt_logprobs = logprobs).
    const sampling = toSamplingParams(body, maxTokens, logprobs, echo ? logprobs : null);
    await this.structuredOutputs.constrain(card, sampling, structured);

    await this.generation.run(req, reply, {
      endpoint: 'completions',
      requestId: newRequestId('cmpl'),
      card,
      prompts: ids,
      sampling,
      n,
      ...deliveryOf(body),
      format: completionFormat(
        n,
        echo,
        logprobs === null ? undefined : this.tokenizers.logprobsOptions(card, logprobs),
      ),
      arrivedAt,
    });
  }
}
