import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { LoomConfig, ModelCard } from '@loom/common';
import { z } from 'zod';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { modelParsers } from '../chat/chat-output-plan.js';
import { buildChatPrompt } from '../chat/chat-prompt.js';
import { chatRequestSchema } from '../chat/chat-request.js';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { BACKEND, CONFIG } from '../di-tokens.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';

/** vLLM's /tokenize: either a completion prompt or chat messages (rendered exactly as /v1/chat/completions does). */
const tokenizeSchema = z.union([
  z.object({ model: z.string().min(1), prompt: z.string(), add_special_tokens: z.boolean().nullish() }),
  z.object({
    model: z.string().min(1),
    messages: chatRequestSchema.shape.messages,
    tools: chatRequestSchema.shape.tools,
    chat_template_kwargs: chatRequestSchema.shape.chat_template_kwargs,
    reasoning_effort: chatRequestSchema.shape.reasoning_effort,
  }),
]);

const detokenizeSchema = z.object({ model: z.string().min(1), tokens: z.array(z.number().int().min(0)) });

@Controller()
export class TokenizeController {
  constructor(
    @Inject(BACKEND) private readonly backend: InferenceBackend,
    private readonly tokenizers: ModelTokenizers,
    @Inject(CONFIG) private readonly config: LoomConfig,
  ) {}

  @Post('tokenize')
  @HttpCode(200)
  async tokenize(@Body() raw: unknown) {
    const body = parseOrThrow(tokenizeSchema, raw);
    const card = await this.card(body.model);
    const tokens =
      'prompt' in body
        ? this.tokenizers
            .get(card)
            .encode(body.prompt, { addSpecial: body.add_special_tokens ?? true, parseSpecial: true })
        : buildChatPrompt(this.tokenizers, card, body, body.tools ?? [], modelParsers(this.config, card).tool).ids;
    return { tokens, count: tokens.length, max_model_len: card.contextLength };
  }

  @Post('detokenize')
  @HttpCode(200)
  async detokenize(@Body() raw: unknown) {
    const body = parseOrThrow(detokenizeSchema, raw);
    const card = await this.card(body.model);
    const bad = body.tokens.find((id) => id >= card.vocabSize);
    if (bad !== undefined)
      throw ApiError.invalid(`Token id ${bad} is out of range (vocabulary size ${card.vocabSize}).`, 'tokens');
    return { prompt: this.tokenizers.decode(card, body.tokens, false) };
  }

  private async card(model: string): Promise<ModelCard> {
    const card = await this.backend.getModel(model);
    if (!card) throw ApiError.modelNotFound(model);
    return card;
  }
}
