import type { OutgoingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger, ModelCard, RequestJob, SamplingParams } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { ApiError } from '../errors/api-error.js';
import { toApiError } from '../errors/to-api-error.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { BACKEND, GATEWAY_OPTIONS, LOGGER, type GatewayOptions } from '../tokens.js';
import { EventConsumer, type ChoiceUpdate } from './event-consumer.js';
import { usageOf, type ResponseContext, type ResponseFormat } from './response-format.js';
import { SseWriter } from './sse-writer.js';

/** An accepted, validated, tokenized request, ready to queue. */
export interface GenerationRequest {
  endpoint: 'completions' | 'chat';
  requestId: string;
  card: ModelCard;
  promptTokenIds: number[];
  sampling: SamplingParams;
  n: number;
  priority: number;
  cacheSalt?: string;
  sessionId?: string;
  stream: boolean;
  includeUsage: boolean;
  format: ResponseFormat;
  /** performance.now() when the request arrived (latency metrics). */
  arrivedAt: number;
}

/** `cmpl-…` / `chatcmpl-…`: always generated here, never taken from the client, because the id is also the BullMQ job id and a reused id would be silently deduplicated. */
export function newRequestId(prefix: 'cmpl' | 'chatcmpl'): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`;
}

/**
 * The request path shared by both generation endpoints: look up the model, check the context
 * window, queue the job, then answer from its output events as SSE or one JSON body, cancelling
 * the request everywhere when the client goes away.
 */
@Injectable()
export class GenerationService {
  constructor(
    @Inject(BACKEND) private readonly backend: InferenceBackend,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(GATEWAY_OPTIONS) private readonly opts: GatewayOptions,
    private readonly metrics: GatewayMetrics,
  ) {}

  async resolveModel(model: string): Promise<ModelCard> {
    const card = await this.backend.getModel(model);
    if (!card) throw ApiError.modelNotFound(model);
    return card;
  }

  /** The prompt must leave room for max_tokens in the model's context window. */
  checkContext(card: ModelCard, promptTokens: number, maxTokens: number, param: string): void {
    if (promptTokens === 0) throw ApiError.invalid('The prompt is empty.', param);
    if (promptTokens + maxTokens > card.contextLength) throw ApiError.contextLengthExceeded(param, promptTokens, maxTokens, card.contextLength);
  }

  async run(req: FastifyRequest, reply: FastifyReply, g: GenerationRequest): Promise<void> {
    const job: RequestJob = {
      requestId: g.requestId,
      model: g.card.modelId,
      promptTokenIds: g.promptTokenIds,
      sampling: g.sampling,
      n: g.n,
      priority: g.priority,
      cacheSalt: g.cacheSalt,
      sessionId: g.sessionId,
      acceptedAt: Date.now(),
    };
    await this.backend.submit(job); // QueueFullError → 429 through the exception filter
    const model = g.card.modelId;
    this.metrics.requestsAccepted.inc({ model, endpoint: g.endpoint });
    this.metrics.promptTokens.inc({ model }, g.promptTokenIds.length);
    this.log.info({ requestId: g.requestId, model, endpoint: g.endpoint, promptTokens: g.promptTokenIds.length, maxTokens: g.sampling.maxTokens, n: g.n, stream: g.stream, clientRequestId: req.headers['x-request-id'] }, 'request accepted');
    if (!reply.hasHeader('x-request-id')) reply.header('x-request-id', g.requestId);

    // The client may go away at any time; the response's 'close' before it finished is that signal.
    const ac = new AbortController();
    const onClose = () => {
      if (reply.raw.writableFinished) return;
      ac.abort();
      this.metrics.requestsCancelled.inc({ reason: 'client_disconnected' });
      this.log.info({ requestId: g.requestId }, 'client disconnected; cancelling');
      this.backend.cancel(g.requestId, 'client_disconnected').catch((err) => this.log.warn({ err, requestId: g.requestId }, 'cancel failed'));
    };
    reply.raw.once('close', onClose);

    const ctx: ResponseContext = { id: g.requestId, created: Math.floor(Date.now() / 1000), model, n: g.n };
    const consumer = new EventConsumer(g.n, g.arrivedAt, model, this.metrics);
    const updates = consumer.consume(this.backend.events(g.requestId, ac.signal, g.n));
    try {
      if (g.stream) await this.stream(reply, g, ctx, consumer, updates, ac.signal);
      else await this.collect(reply, g, ctx, consumer, updates, ac.signal);
    } finally {
      if (!ac.signal.aborted) this.metrics.e2e.observe({ model }, (performance.now() - g.arrivedAt) / 1000);
    }
  }

  private async collect(reply: FastifyReply, g: GenerationRequest, ctx: ResponseContext, consumer: EventConsumer, updates: AsyncIterable<unknown>, signal: AbortSignal): Promise<void> {
    for await (const _ of updates) void _; // errors propagate to the exception filter as ApiErrors
    if (signal.aborted) return;
    if (!consumer.complete) throw incomplete();
    reply.type('application/json').send(g.format.body(ctx, consumer.results(), usageOf(g.promptTokenIds.length, consumer.completionTokens)));
  }

  private async stream(reply: FastifyReply, g: GenerationRequest, ctx: ResponseContext, consumer: EventConsumer, updates: AsyncIterable<ChoiceUpdate>, signal: AbortSignal): Promise<void> {
    reply.hijack();
    const sse = new SseWriter(reply.raw, this.opts.keepAliveMs);
    sse.open(reply.getHeaders() as OutgoingHttpHeaders);
    try {
      for (const c of g.format.openingChunks(ctx)) sse.send(c);
      for await (const u of updates) {
        sse.send(u.kind === 'delta' ? g.format.deltaChunk(ctx, u.index, u.text, u.logprobs) : g.format.finishChunk(ctx, u.index, u.finishReason));
      }
      if (signal.aborted) return;
      if (!consumer.complete) throw incomplete();
      if (g.includeUsage) sse.send(g.format.usageChunk(ctx, usageOf(g.promptTokenIds.length, consumer.completionTokens)));
    } catch (err) {
      // Headers are gone: the error travels in-band, as vLLM and OpenAI do, then [DONE].
      const apiErr = toApiError(err);
      this.metrics.requestErrors.inc({ status: String(apiErr.status), code: apiErr.code ?? apiErr.type });
      if (apiErr.status >= 500) this.log.error({ err, requestId: g.requestId }, 'stream failed');
      sse.send(apiErr.body());
    } finally {
      if (!signal.aborted) sse.done();
      else sse.end();
    }
  }
}

function incomplete(): ApiError {
  return new ApiError(503, 'The output stream ended before the request finished; retry it.', 'service_unavailable_error', null, 'stream_incomplete');
}
