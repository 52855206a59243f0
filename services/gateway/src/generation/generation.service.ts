import type { OutgoingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { at } from '@loom/common';
import type { Logger, LoomConfig, ModelCard, RequestJob, SamplingParams } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { effectiveCacheSalt, effectivePriority, principalOf, type Principal } from '../auth/principal.js';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { ApiError } from '../errors/api-error.js';
import { toApiError } from '../errors/to-api-error.js';
import { RateLimits } from '../limits/rate-limits.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { BACKEND, CONFIG, GATEWAY_OPTIONS, LOGGER, type GatewayOptions } from '../di-tokens.js';
import { EventConsumer, type ChoiceUpdate } from './event-consumer.js';
import { mergeEvents } from './merge-events.js';
import { usageOf, type ResponseContext, type ResponseFormat, type Usage } from './response-format.js';
import { SseWriter } from './sse-writer.js';

/** An accepted, validated, tokenized request, ready to queue. */
export interface GenerationRequest {
  endpoint: 'completions' | 'chat' | 'responses';
  requestId: string;
  card: ModelCard;
  /** Token ids of each prompt (completions may carry several; chat has one). */
  prompts: number[][];
  sampling: SamplingParams;
  /** Choices per prompt. */
  n: number;
  /** What the client asked for; the key's priority bounds it. */
  priority?: number | null;
  cacheSalt?: string | null;
  sessionId?: string;
  stream: boolean;
  includeUsage: boolean;
  /** vLLM's stream_options.continuous_usage_stats: every chunk carries the usage so far. */
  continuousUsage: boolean;
  format: ResponseFormat;
  /** performance.now() when the request arrived (latency metrics). */
  arrivedAt: number;
  /**
   * Awaited once the output is complete, before the body or the closing chunks go out (Responses stores
   * the response here, so a client that has it can continue from it at once). A throw is the answer.
   */
  finalize?(usage: Usage): Promise<void>;
  /**
   * Awaited once when an accepted request ends without its complete output, before the client is told: `err` is
   * the failure it gets (undefined: the client went away), `usage` what was generated. Responses stores the
   * failed or incomplete response here. Not called when finalize itself threw; a throw is logged, not answered.
   */
  abandon?(err: ApiError | undefined, usage: Usage): Promise<void>;
}

/**
 * `cmpl-…` / `chatcmpl-…` / `embd-…` / `resp_…` (OpenAI's spelling of each): always generated here, never
 * taken from the client, because the id is also the BullMQ job id and a reused id would be silently
 * deduplicated.
 */
export function newRequestId(prefix: 'cmpl' | 'chatcmpl' | 'embd' | 'resp'): string {
  return `${prefix}${prefix === 'resp' ? '_' : '-'}${randomUUID().replaceAll('-', '')}`;
}

/** Seconds a client should wait after a queue-wait timeout before trying again. */
const QUEUE_TIMEOUT_RETRY_AFTER_S = 5;

/** How one response's jobs are cancelled and why the response stopped early, if it did. */
export interface Lifecycle {
  jobs: RequestJob[];
  clientGone: AbortController;
  /** Aborted when the response is over for any reason: ends every output reader. */
  over: AbortController;
  timedOut: boolean;
}

/**
 * The request path shared by both generation endpoints: check the context window and rate
 * limits, queue one job per prompt (each job keeps the RequestJob contract of one prompt with `n`
 * choices, and can be routed to whichever worker caches its prefix), then answer from the jobs'
 * output events as SSE or one JSON body. The request is cancelled everywhere when the client goes
 * away, and when no event comes within the queue-wait timeout (503 + Retry-After).
 */
@Injectable()
export class GenerationService {
  constructor(
    @Inject(BACKEND) private readonly backend: InferenceBackend,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(GATEWAY_OPTIONS) private readonly opts: GatewayOptions,
    @Inject(CONFIG) private readonly config: LoomConfig,
    private readonly metrics: GatewayMetrics,
    private readonly limits: RateLimits,
  ) {}

  async resolveModel(model: string): Promise<ModelCard> {
    const card = await this.backend.getModel(model);
    if (!card) throw ApiError.modelNotFound(model);
    return card;
  }

  /** The prompt must leave room for max_tokens in the model's context window. */
  checkContext(card: ModelCard, promptTokens: number, maxTokens: number, param: string): void {
    if (promptTokens === 0) throw ApiError.invalid('The prompt is empty.', param);
    if (promptTokens + maxTokens > card.contextLength)
      throw ApiError.contextLengthExceeded(param, promptTokens, maxTokens, card.contextLength);
  }

  /**
   * The start every endpoint shares: admit the request under its key's rate limits (`a.admitTokens`),
   * queue its jobs (built by `jobsFor` once the key's priority, cache salt and tenant are known;
   * withdrawn when one is refused: QueueFullError, a 429), count and log it, echo its id, and cancel it
   * everywhere when the client goes away. Undefined (nothing queued) when the client is gone already.
   */
  async accept(
    req: FastifyRequest,
    reply: FastifyReply,
    a: { endpoint: string; requestId: string; model: string; promptTokens: number; admitTokens: number },
    logFields: Record<string, unknown>,
    jobsFor: (principal: Principal) => RequestJob[],
  ): Promise<Lifecycle | undefined> {
    const principal = principalOf(req, { rpm: this.config.rateLimitRpm, tpm: this.config.rateLimitTpm });
    await this.limits.admit(principal, a.admitTokens);
    const life: Lifecycle = {
      jobs: jobsFor(principal),
      clientGone: new AbortController(),
      over: new AbortController(),
      timedOut: false,
    };
    if (reply.raw.destroyed) {
      // The client left before its job was queued (a burst of abandoned requests): queue nothing.
      this.metrics.requestsCancelled.inc({ reason: 'client_disconnected' });
      this.log.info({ requestId: a.requestId, reason: 'client_disconnected' }, 'request dropped before queueing');
      return undefined;
    }
    await this.submitAll(life); // QueueFullError → 429 through the exception filter
    this.metrics.requestsAccepted.inc({ model_name: a.model, endpoint: a.endpoint });
    this.metrics.promptTokens.inc({ model_name: a.model }, a.promptTokens);
    this.log.info(
      {
        requestId: a.requestId,
        model: a.model,
        endpoint: a.endpoint,
        promptTokens: a.promptTokens,
        ...logFields,
        keyId: principal.keyId,
        tenant: principal.tenant,
        clientRequestId: req.headers['x-request-id'],
      },
      'request accepted',
    );
    if (!reply.hasHeader('x-request-id')) reply.header('x-request-id', a.requestId);
    this.cancelWhenClientGoes(reply, life);
    return life;
  }

  async run(req: FastifyRequest, reply: FastifyReply, g: GenerationRequest): Promise<void> {
    const promptTokens = g.prompts.reduce((s, p) => s + p.length, 0);
    const model = g.card.modelId;
    const life = await this.accept(
      req,
      reply,
      {
        endpoint: g.endpoint,
        requestId: g.requestId,
        model,
        promptTokens,
        admitTokens: promptTokens + g.sampling.maxTokens * g.n * g.prompts.length,
      },
      { prompts: g.prompts.length, maxTokens: g.sampling.maxTokens, n: g.n, stream: g.stream },
      (principal) =>
        g.prompts.map((promptTokenIds, k) => ({
          model,
          sampling: g.sampling,
          n: g.n,
          priority: effectivePriority(principal, g.priority),
          cacheSalt: effectiveCacheSalt(principal, g.cacheSalt),
          tenant: principal.tenant,
          sessionId: g.sessionId,
          requestId: k === 0 ? g.requestId : `${g.requestId}-${k}`,
          promptTokenIds,
          acceptedAt: Date.now(),
        })),
    );
    if (!life) return;
    const jobs = life.jobs;

    const ctx: ResponseContext = {
      id: g.requestId,
      created: Math.floor(Date.now() / 1000),
      model,
      n: g.n * jobs.length,
    };
    const consumer = new EventConsumer(ctx.n, g.arrivedAt, model, this.metrics);
    const signal = AbortSignal.any([life.clientGone.signal, life.over.signal]);
    const merged = mergeEvents(
      jobs.map((j) => this.backend.events(j.requestId, signal, g.n)),
      g.n,
    );
    // The queue-wait timeout, cleared by the first burst (a timer, not one more generator per stream).
    const ms = this.opts.queueWaitTimeoutMs;
    const firstWait =
      ms > 0
        ? setTimeout(() => {
            life.timedOut = true;
            this.stop(life, 'queue_timeout');
          }, ms)
        : undefined;
    const updates = consumer.consume(merged, () => clearTimeout(firstWait));
    try {
      if (g.stream) await this.stream(reply, g, ctx, consumer, updates, life, promptTokens);
      else await this.collect(reply, g, ctx, consumer, updates, life, promptTokens);
    } finally {
      clearTimeout(firstWait);
      // Several jobs and one failed: the others must not run on for nobody.
      if (!consumer.complete && !life.over.signal.aborted && jobs.length > 1) this.stop(life, 'request_failed');
      life.over.abort();
      if (!life.clientGone.signal.aborted) {
        const e2e = (performance.now() - g.arrivedAt) / 1000;
        this.metrics.e2e.observe({ model_name: model }, e2e);
        const ttft = consumer.timeToFirstToken;
        if (ttft !== undefined && consumer.completionTokens > 1)
          this.metrics.tpot.observe({ model_name: model }, (e2e - ttft) / (consumer.completionTokens - 1));
      }
    }
  }

  /**
   * The client may go away at any time; the response's 'close' before it finished is that signal.
   * It may already have fired while the job was being queued (a burst of abandoned requests): a
   * response destroyed by now had its client go, and its job must not run for nobody.
   */
  private cancelWhenClientGoes(reply: FastifyReply, life: Lifecycle): void {
    const clientGone = () => {
      if (reply.raw.writableFinished || life.over.signal.aborted) return;
      life.clientGone.abort();
      this.stop(life, 'client_disconnected');
    };
    if (reply.raw.destroyed) clientGone();
    else reply.raw.once('close', clientGone);
  }

  /** Queue every job; when one is refused, withdraw the ones already queued. */
  private async submitAll(life: Lifecycle): Promise<void> {
    for (let k = 0; k < life.jobs.length; k++) {
      try {
        await this.backend.submit(at(life.jobs, k));
      } catch (err) {
        for (const j of life.jobs.slice(0, k))
          void this.backend.cancel(j.requestId, 'request_failed').catch(() => undefined);
        throw err;
      }
    }
  }

  /** Cancel every job of the response everywhere and end its readers. */
  stop(life: Lifecycle, reason: 'client_disconnected' | 'queue_timeout' | 'request_failed'): void {
    life.over.abort();
    this.metrics.requestsCancelled.inc({ reason });
    const requestId = at(life.jobs, 0).requestId;
    this.log.info({ requestId, reason }, 'cancelling request');
    for (const j of life.jobs)
      this.backend
        .cancel(j.requestId, reason)
        .catch((err) => this.log.warn({ err, requestId: j.requestId }, 'cancel failed'));
  }

  private async collect(
    reply: FastifyReply,
    g: GenerationRequest,
    ctx: ResponseContext,
    consumer: EventConsumer,
    updates: AsyncIterable<ChoiceUpdate[]>,
    life: Lifecycle,
    promptTokens: number,
  ): Promise<void> {
    // The format sees every update, as in a stream (chat parses the output as it comes); errors
    // propagate to the exception filter as ApiErrors.
    try {
      for await (const burst of updates) for (const u of burst) g.format.updateChunks(ctx, u);
      if (life.timedOut) throw queueTimeout(this.opts.queueWaitTimeoutMs);
      if (life.clientGone.signal.aborted) return void (await this.abandon(g, undefined, promptTokens, consumer));
      if (!consumer.complete) throw incomplete();
    } catch (err) {
      await this.abandon(g, clientLeft(life) ? undefined : toApiError(err), promptTokens, consumer);
      throw err;
    }
    const usage = usageWith(g, promptTokens, consumer);
    await g.finalize?.(usage);
    reply.type('application/json').send(g.format.body(ctx, consumer.results(), usage));
  }

  private async stream(
    reply: FastifyReply,
    g: GenerationRequest,
    ctx: ResponseContext,
    consumer: EventConsumer,
    updates: AsyncIterable<ChoiceUpdate[]>,
    life: Lifecycle,
    promptTokens: number,
  ): Promise<void> {
    reply.hijack();
    const sse = new SseWriter(reply.raw, this.opts.keepAliveMs);
    // Lazy: until the first byte, an error can still be a real status (503 + Retry-After).
    sse.open(reply.getHeaders() as OutgoingHttpHeaders, { lazy: true });
    const continuous = g.includeUsage && g.continuousUsage;
    const typed = g.format.typedEvents;
    // Queued: a burst's chunks (and the closing ones) go out in one write, at flush() / done() / end().
    const send = (chunk: object) => {
      if (typed) sse.queue(chunk, (chunk as { type: string }).type);
      else sse.queue(continuous ? { ...chunk, usage: usageWith(g, promptTokens, consumer) } : chunk);
    };
    let begun = false;
    let finalizing = false;
    try {
      // A burst's chunks go out in one write; the stream waits only when the client's socket is full.
      for await (const burst of updates) {
        if (!begun) {
          begun = true;
          for (const c of g.format.openingChunks(ctx)) send(c);
        }
        for (const u of burst) for (const chunk of g.format.updateChunks(ctx, u)) send(chunk);
        sse.flush();
        if (sse.needsDrain) await sse.drained();
      }
      if (life.timedOut) throw queueTimeout(this.opts.queueWaitTimeoutMs);
      if (life.clientGone.signal.aborted) return void (await this.abandon(g, undefined, promptTokens, consumer));
      if (!consumer.complete) throw incomplete();
      const usage = usageWith(g, promptTokens, consumer);
      finalizing = true;
      await g.finalize?.(usage);
      if (g.includeUsage) send(g.format.usageChunk(ctx, usage));
      for (const c of g.format.closingChunks?.(ctx, usage) ?? []) send(c);
    } catch (err) {
      const apiErr = toApiError(err);
      this.metrics.requestErrors.inc({ status: String(apiErr.status), code: apiErr.code ?? apiErr.type });
      if (apiErr.status >= 500) this.log.error({ err, requestId: g.requestId }, 'stream failed');
      const usage = usageWith(g, promptTokens, consumer);
      if (!finalizing) await this.abandon(g, clientLeft(life) ? undefined : apiErr, promptTokens, consumer);
      if (!sse.opened) return sse.reject(apiErr.status, apiErr.body(), apiErr.headers);
      // Headers are gone: the error travels in-band (after what was queued), as vLLM and OpenAI do,
      // then [DONE] (not for typed events).
      if (typed) for (const c of typed.error(apiErr, usage)) send(c);
      else sse.send(apiErr.body());
    } finally {
      if (life.clientGone.signal.aborted || typed) sse.end();
      else sse.done();
    }
  }

  /** g.abandon, its failure logged: the client still gets its answer. */
  private async abandon(
    g: GenerationRequest,
    err: ApiError | undefined,
    promptTokens: number,
    consumer: EventConsumer,
  ): Promise<void> {
    await g.abandon?.(err, usageWith(g, promptTokens, consumer)).catch((e: unknown) => {
      this.log.warn({ err: e, requestId: g.requestId }, 'recording the unfinished response failed');
    });
  }
}

const clientLeft = (life: Lifecycle) => life.clientGone.signal.aborted;

function usageWith(g: GenerationRequest, promptTokens: number, consumer: EventConsumer): Usage {
  return {
    ...usageOf(promptTokens, consumer.completionTokens, consumer.cachedTokens(g.n)),
    ...g.format.usageDetails?.(),
  };
}

export function incomplete(): ApiError {
  return new ApiError(
    503,
    'The output stream ended before the request finished; retry it.',
    'service_unavailable_error',
    null,
    'stream_incomplete',
  );
}

export function queueTimeout(ms: number): ApiError {
  return new ApiError(
    503,
    `No capacity to start the request within ${ms / 1000} s; it was cancelled. Retry later.`,
    'service_unavailable_error',
    null,
    'queue_timeout',
    {
      'retry-after': String(QUEUE_TIMEOUT_RETRY_AFTER_S),
    },
  );
}
