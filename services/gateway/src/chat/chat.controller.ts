import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { LoomConfig } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { checkTokenIds, deliveryOf, toSamplingParams } from '../generation/sampling-request.js';
import { structuredOutputOf } from '../generation/structured-output-request.js';
import { StructuredOutputs } from '../generation/structured-outputs.service.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { ApiError } from '../errors/api-error.js';
import { CONFIG } from '../di-tokens.js';
import { chatFormat } from './chat-format.js';
import { chatOutputPlan, forcedCallConstraint, forcedMode, modelParsers } from './chat-output-plan.js';
import { buildChatPrompt } from './chat-prompt.js';
import { chatLogprobs, chatRequestSchema, rejectUnsupportedChat, toolPlan } from './chat-request.js';

@Controller('v1/chat')
export class ChatController {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
    @Inject(CONFIG) private readonly config: LoomConfig,
    private readonly structuredOutputs: StructuredOutputs,
  ) {}

  @Post('completions')
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(chatRequestSchema, raw);
    rejectUnsupportedChat(body);
    const structured = structuredOutputOf(body);
    const card = await this.generation.resolveModel(body.model);
    checkTokenIds(body, card.vocabSize);

    const parsers = modelParsers(this.config, card);
    const { tools, mode } = toolPlan(body);
    const forced = forcedMode(mode);
    if (forced && structured)
      throw ApiError.invalid(
        `'tool_choice' that forces a call cannot be combined with '${structured.param}': the call is the output's format.`,
        'tool_choice',
      );
    // A forced call is decoded under a constraint: the model's call is always valid JSON for the tool.
    const constraint = forced ? forcedCallConstraint(tools, forced, body.parallel_tool_calls ?? true) : structured;
    const { ids, generationPrompt } = buildChatPrompt(this.tokenizers, card, body, tools, parsers.tool, {
      describeTools: forced !== undefined,
    });
    // Like vLLM: without a limit, the completion may use the rest of the context window.
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? Math.max(1, card.contextLength - ids.length);
    this.generation.checkContext(card, ids.length, maxTokens, 'messages');

    const { output, keepSpecialTokens } = chatOutputPlan(parsers, mode, tools, generationPrompt, {
      includeReasoning: body.include_reasoning ?? true,
      parallelToolCalls: body.parallel_tool_calls ?? true,
    });
    const logprobs = chatLogprobs(body);
    const sampling = toSamplingParams(body, maxTokens, logprobs, body.prompt_logprobs ?? null);
    // Markers that may be special tokens must reach the parser; a client that set
    // skip_special_tokens has the last word.
    if (keepSpecialTokens && body.skip_special_tokens == null) sampling.skipSpecialTokens = false;
    await this.structuredOutputs.constrain(card, sampling, constraint);
    await this.generation.run(req, reply, {
      endpoint: 'chat',
      requestId: newRequestId('chatcmpl'),
      card,
      prompts: [ids],
      sampling,
      n: body.n ?? 1,
      ...deliveryOf(body),
      format: chatFormat(
        logprobs === null ? undefined : this.tokenizers.logprobsOptions(card, logprobs),
        body.prompt_logprobs == null ? undefined : this.tokenizers.logprobsOptions(card, body.prompt_logprobs),
        output,
      ),
      arrivedAt,
    });
  }
}
