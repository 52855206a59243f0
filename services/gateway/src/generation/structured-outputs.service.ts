import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ModelCard, SamplingParams } from '@loom/common';
import { GrammarChecker } from '@loom/structured-output';
import { ApiError } from '../errors/api-error.js';
import type { RequestedStructuredOutput } from './structured-output-request.js';

/**
 * Compiles each structured-output constraint for the model's vocabulary before the request is queued
 * (GrammarChecker: its own thread, a time limit, known-good specs remembered), so a constraint xgrammar
 * rejects or cannot compile in time is a 400 naming its parameter at request time, as vLLM answers,
 * and the scheduler never meets one that fails.
 */
@Injectable()
export class StructuredOutputs implements OnModuleDestroy {
  private readonly checker = new GrammarChecker();

  /** check(), then the constraint goes on `sampling`; nothing to do when none was requested. */
  async constrain(
    card: ModelCard,
    sampling: SamplingParams,
    requested: RequestedStructuredOutput | undefined,
  ): Promise<void> {
    if (!requested) return;
    await this.check(card, requested);
    sampling.structuredOutput = requested.spec;
  }

  async check(card: ModelCard, requested: RequestedStructuredOutput): Promise<void> {
    const r = await this.checker.check(`${card.modelId}@${card.createdAt}`, card, requested.spec);
    if (!r.ok && r.busy)
      throw new ApiError(
        503,
        `Too many new structured-output constraints are being checked (${r.message}); retry later.`,
        'service_unavailable_error',
        requested.param,
        'structured_output_busy',
        { 'retry-after': '1' },
      );
    if (!r.ok) throw ApiError.invalid(`Invalid '${requested.param}': ${r.message}`, requested.param);
  }

  async onModuleDestroy(): Promise<void> {
    await this.checker.close();
  }
}
