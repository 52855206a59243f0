import { Inject, Injectable } from '@nestjs/common';
import { decodeEmbedding, type ModelCard, type PoolingParams } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { effectiveCacheSalt, effectivePriority } from '../auth/principal.js';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { ApiError } from '../errors/api-error.js';
import { apiFinishReason, errorFromEvent } from '../generation/event-consumer.js';
import { firstEventTimeout } from '../generation/first-event-timeout.js';
import { GenerationService, incomplete, queueTimeout } from '../generation/generation.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { BACKEND, GATEWAY_OPTIONS, type GatewayOptions } from '../di-tokens.js';
import { EMBEDDING_SAMPLING } from './embedding-request.js';

/** A validated, tokenized /v1/embeddings request, ready to queue. */
export interface EmbeddingsRequest {
  requestId: string;
  card: ModelCard;
  /** Token ids of each input, in the request's order. */
  inputs: number[][];
  pooling: PoolingParams;
  encodingFormat: 'float' | 'base64';
  priority?: number | null;
  cacheSalt?: string | null;
  /** performance.now() when the request arrived (latency metrics). */
  arrivedAt: number;
}

/**
 * /v1/embeddings through the cluster: ONE job whose inputs are its sequences (`${requestId}#${i}`),
 * each computed as a prompt by the scheduler's core in the same steps as generation and pooled by its
 * worker; each sequence's 'finish' event carries its vector. The lifecycle is the generation path's
 * (rate limits, cancel when the client goes, the queue-wait timeout's 503); the answer is one JSON body.
 */
@Injectable()
export class EmbeddingsService {
  constructor(
    @Inject(BACKEND) private readonly backend: InferenceBackend,
    @Inject(GATEWAY_OPTIONS) private readonly opts: GatewayOptions,
    private readonly metrics: GatewayMetrics,
    private readonly generation: GenerationService,
  ) {}

  async run(req: FastifyRequest, reply: FastifyReply, e: EmbeddingsRequest): Promise<void> {
    const promptTokens = e.inputs.reduce((s, p) => s + p.length, 0);
    const model = e.card.modelId;
    const n = e.inputs.length;
    const life = await this.generation.accept(
      req,
      reply,
      { endpoint: 'embeddings', requestId: e.requestId, model, promptTokens, admitTokens: promptTokens },
      { inputs: n, pooling: e.pooling },
      (principal) => [
        {
          requestId: e.requestId,
          model,
          promptTokenIds: [],
          inputs: e.inputs,
          n,
          sampling: EMBEDDING_SAMPLING,
          pooling: e.pooling,
          priority: effectivePriority(principal, e.priority),
          cacheSalt: effectiveCacheSalt(principal, e.cacheSalt),
          tenant: principal.tenant,
          acceptedAt: Date.now(),
        },
      ],
    );
    if (!life) return;

    const signal = AbortSignal.any([life.clientGone.signal, life.over.signal]);
    const events = firstEventTimeout(this.backend.events(e.requestId, signal, n), this.opts.queueWaitTimeoutMs, () => {
      life.timedOut = true;
      this.generation.stop(life, 'queue_timeout');
    });
    /** Each input's vector as its finish event carries it (base64 little-endian float32). */
    const vectors = new Array<string | undefined>(n).fill(undefined);
    let done = 0;
    try {
      for await (const burst of events)
        for (const ev of burst) {
          if (ev.type === 'error') throw errorFromEvent(ev);
          if (ev.type !== 'finish' || ev.index >= n || vectors[ev.index] !== undefined) continue;
          apiFinishReason(ev.finishReason); // an abort is a 503, a failure a 500
          if (ev.embedding === undefined)
            throw new ApiError(500, 'The cluster finished an input without its embedding.', 'server_error');
          vectors[ev.index] = ev.embedding;
          done++;
        }
      if (life.timedOut) throw queueTimeout(this.opts.queueWaitTimeoutMs);
      if (life.clientGone.signal.aborted) return;
      if (done < n) throw incomplete();
      this.metrics.requestsFinished.inc({ model_name: model, finish_reason: 'stop' });
      this.metrics.requestSuccess.inc({ model_name: model, finished_reason: 'stop' });
      reply.type('application/json').send({
        id: e.requestId,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model,
        data: vectors.map((v, index) => ({
          object: 'embedding',
          index,
          // base64 is the events' own encoding (OpenAI's: little-endian float32).
          embedding: e.encodingFormat === 'base64' ? v! : Array.from(decodeEmbedding(v!)),
        })),
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      });
    } finally {
      // An input failed or was aborted: the others must not run on for nobody.
      if (done < n && !life.over.signal.aborted) this.generation.stop(life, 'request_failed');
      life.over.abort();
      if (!life.clientGone.signal.aborted)
        this.metrics.e2e.observe({ model_name: model }, (performance.now() - e.arrivedAt) / 1000);
    }
  }
}
