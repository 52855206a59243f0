import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { checkTokenIds, toSamplingParams } from '../generation/sampling-request.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { chatFormat } from './chat-format.js';
import { chatLogprobs, chatRequestSchema, rejectUnsupportedChat, templateMessages } from './chat-request.js';

@Controller('v1/chat')
export class ChatController {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
  ) {}

  @Post('completions')
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(chatRequestSchema, raw);
    rejectUnsupportedChat(body);
    const card = await this.generation.resolveModel(body.model);
    checkTokenIds(body, card.vocabSize);

    let ids: number[];
    try {
      ids = this.tokenizers.encodeChat(card, templateMessages(body)).ids;
    } catch (err) {
      const message = (err as Error).message;
      // A template that does not even parse is the deployment's fault, not the client's.
      if (message.startsWith('the chat template does not parse')) throw err;
      // Templates raise on conversations they do not support (e.g. roles out of order): client input.
      throw ApiError.invalid(`The chat template could not render these messages: ${message}`, 'messages');
    }
    // Like vLLM: without a limit, the completion may use the rest of the context window.
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? Math.max(1, card.contextLength - ids.length);
    this.generation.checkContext(card, ids.length, maxTokens, 'messages');

    const logprobs = chatLogprobs(body);
    await this.generation.run(req, reply, {
      endpoint: 'chat',
      requestId: newRequestId('chatcmpl'),
      card,
      prompts: [ids],
      sampling: toSamplingParams(body, maxTokens, logprobs, body.prompt_logprobs ?? null),
      n: body.n ?? 1,
      priority: body.priority,
      cacheSalt: body.cache_salt,
      sessionId: body.session_id ?? undefined,
      stream: body.stream ?? false,
      includeUsage: body.stream_options?.include_usage ?? false,
      continuousUsage: body.stream_options?.continuous_usage_stats ?? false,
      format: chatFormat(
        logprobs === null ? undefined : this.tokenizers.logprobsOptions(card, logprobs),
        body.prompt_logprobs == null ? undefined : this.tokenizers.logprobsOptions(card, body.prompt_logprobs),
      ),
      arrivedAt,
    });
  }
}
