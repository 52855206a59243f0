import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { LoomConfig } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/principal.js';
import { chatOutputPlan, forcedCallConstraint, forcedMode, modelParsers } from '../chat/chat-output-plan.js';
import { buildChatPrompt } from '../chat/chat-prompt.js';
import { toolPlan } from '../chat/chat-request.js';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { GenerationService, newRequestId } from '../generation/generation.service.js';
import { checkTokenIds, toSamplingParams } from '../generation/sampling-request.js';
import { StructuredOutputs } from '../generation/structured-outputs.service.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { CONFIG } from '../di-tokens.js';
import { chatMessages, inputItems, type ConversationItem } from './response-items.js';
import { rejectUnsupportedResponse, responseRequestSchema, type ResponseRequest } from './response-request.js';
import type { ResponseStore, StoredResponse } from './response-store.js';
import { ResponseStreamFormat } from './response-stream-format.js';
import { chatToolsOf, echoTools, textFormatConstraint } from './response-tools.js';

/** Nest token of the ResponseStore. */
export const RESPONSE_STORE = Symbol('ResponseStore');

/**
 * POST /v1/responses on the chat path: the conversation (a stored previous response's input and
 * output, then this input) becomes chat messages rendered by the model's template with the tools;
 * the output goes through the chat output parsers (reasoning, per-family tool calls, forced calls),
 * `text.format` through the structured-output constraint; ResponseStreamFormat shapes it as items and
 * events. With `store` (the default) the response is kept, under the caller's API key, before the
 * client gets its end; one that failed or whose client left is kept too (`failed`, `incomplete`).
 */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly generation: GenerationService,
    private readonly tokenizers: ModelTokenizers,
    @Inject(CONFIG) private readonly config: LoomConfig,
    private readonly structuredOutputs: StructuredOutputs,
    @Inject(RESPONSE_STORE) private readonly store: ResponseStore,
  ) {}

  /** The caller's id for ownership: a prefix of its API key's digest, or 'anonymous' without keys. */
  ownerOf(req: FastifyRequest): string {
    return principalOf(req, { rpm: 0, tpm: 0 }).keyId;
  }

  async stored(req: FastifyRequest, id: string): Promise<StoredResponse> {
    const found = await this.store.get(this.ownerOf(req), id);
    if (!found) throw notFound(id, 'response_id');
    return found;
  }

  async delete(req: FastifyRequest, id: string): Promise<void> {
    if (!(await this.store.delete(this.ownerOf(req), id))) throw notFound(id, 'response_id');
  }

  async create(req: FastifyRequest, reply: FastifyReply, raw: unknown): Promise<void> {
    const arrivedAt = performance.now();
    const body = parseOrThrow(responseRequestSchema, raw);
    rejectUnsupportedResponse(body);
    const structured = textFormatConstraint(body);
    const requested = chatToolsOf(body);
    const { tools, mode } = toolPlan({ tools: requested.tools, tool_choice: requested.choice });
    const card = await this.generation.resolveModel(body.model);
    // Responses' stream_options is its own (obfuscation); the sampling fields are chat's.
    const { stream_options: _streamOptions, ...samplingBody } = body;
    checkTokenIds(samplingBody, card.vocabSize);
    const owner = this.ownerOf(req);

    const earlier = await this.earlierTurns(owner, body.previous_response_id);
    const input = inputItems(body.input as string | Record<string, unknown>[]);
    const conversation = [...earlier, ...input];

    const parsers = modelParsers(this.config, card);
    const forced = forcedMode(mode);
    const parallelToolCalls = body.parallel_tool_calls ?? true;
    if (forced && structured)
      throw ApiError.invalid(
        "'tool_choice' that forces a call cannot be combined with 'text.format': the call is the output's format.",
        'tool_choice',
      );
    const constraint = forced ? forcedCallConstraint(tools, forced, parallelToolCalls) : structured;
    const { ids, generationPrompt } = asInputError(() =>
      buildChatPrompt(
        this.tokenizers,
        card,
        {
          messages: chatMessages(conversation, body.instructions),
          reasoning_effort: body.reasoning?.effort,
          chat_template_kwargs: body.chat_template_kwargs,
        },
        tools,
        parsers.tool,
        { describeTools: forced !== undefined },
      ),
    );
    const maxTokens = body.max_output_tokens ?? Math.max(1, card.contextLength - ids.length);
    this.generation.checkContext(card, ids.length, maxTokens, 'input');

    const { output, keepSpecialTokens } = chatOutputPlan(parsers, mode, tools, generationPrompt, {
      includeReasoning: body.include_reasoning ?? true,
      parallelToolCalls,
    });
    const sampling = toSamplingParams(samplingBody, maxTokens);
    if (keepSpecialTokens && body.skip_special_tokens == null) sampling.skipSpecialTokens = false;
    await this.structuredOutputs.constrain(card, sampling, constraint);

    const id = newRequestId('resp');
    const store = body.store ?? true;
    const format = new ResponseStreamFormat(id, echoOf(body, card.modelId, requested.tools, sampling, store), {
      parser: output?.parser,
      newCallId: output?.newCallId ?? (() => `call_${randomInt(2 ** 47).toString(36)}`),
      parallelToolCalls,
      includeReasoning: body.include_reasoning ?? true,
    });
    const keep = store
      ? (response: object) =>
          this.store.put(owner, id, {
            response: response as StoredResponse['response'],
            conversation,
            inputCount: input.length,
          })
      : undefined;
    await this.generation.run(req, reply, {
      endpoint: 'responses',
      requestId: id,
      card,
      prompts: [ids],
      sampling,
      n: 1,
      priority: body.priority,
      cacheSalt: body.cache_salt,
      // OpenAI's prompt_cache_key groups requests that share a prefix: Loom's routing affinity hint.
      sessionId: body.prompt_cache_key ?? body.session_id ?? undefined,
      stream: body.stream ?? false,
      includeUsage: false,
      continuousUsage: false,
      format,
      arrivedAt,
      finalize: keep && ((usage) => keep(format.final(usage))),
      // Kept as OpenAI keeps them: a failed response (GET shows its error) or one its client cut short.
      abandon: keep && ((err, usage) => keep(format.unfinishedResponse(err, usage))),
    });
  }

  /** The conversation a `previous_response_id` continues: its input and earlier turns, then its output. */
  private async earlierTurns(owner: string, previous: string | null | undefined): Promise<ConversationItem[]> {
    if (!previous) return [];
    const prev = await this.store.get(owner, previous);
    if (!prev) throw notFound(previous, 'previous_response_id');
    return [...prev.conversation, ...prev.response.output];
  }
}

/** A missing response, or another key's (indistinguishable on purpose): OpenAI's 404. */
function notFound(id: string, param: string): ApiError {
  return new ApiError(404, `Response with id '${id}' not found.`, 'invalid_request_error', param, 'not_found');
}

/** The chat path names `messages`; here the conversation came as `input` (and previous responses). */
function asInputError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ApiError && err.param?.startsWith('messages'))
      throw new ApiError(err.status, err.message, err.type, 'input', err.code, err.headers);
    throw err;
  }
}

/** The Response object's echo of the request. */
function echoOf(
  body: ResponseRequest,
  model: string,
  tools: Parameters<typeof echoTools>[0],
  sampling: { temperature: number; topP: number },
  store: boolean,
): ConstructorParameters<typeof ResponseStreamFormat>[1] {
  return {
    created_at: Math.floor(Date.now() / 1000),
    model,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    previous_response_id: body.previous_response_id ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    tool_choice: body.tool_choice ?? 'auto',
    tools: echoTools(tools),
    metadata: body.metadata ?? {},
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    text: { format: body.text?.format ?? { type: 'text' } },
    truncation: 'disabled',
    store,
    background: false,
    ...(body.user != null ? { user: body.user } : {}),
    ...(body.prompt_cache_key != null ? { prompt_cache_key: body.prompt_cache_key } : {}),
    ...(body.safety_identifier != null ? { safety_identifier: body.safety_identifier } : {}),
  };
}
