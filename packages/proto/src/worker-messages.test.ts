import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packageDefinition } from './load-protos.js';

import type * as M from './worker-messages.js';

/**
 * worker-messages.ts is hand-written; this pins it to the .proto in both directions: each key set
 * below is typed `Record<keyof Interface, true>` (the compiler rejects a missing or extra key), and
 * the test compares it with the fields protobuf actually loads.
 */
type Keys<T> = Record<keyof T, true>;
const k = <T>(o: Keys<T>): string[] => Object.keys(o);
const EXPECTED: Record<string, string[]> = {
  InfoResponse: k<M.InfoResponse>({
    workerId: true,
    modelId: true,
    architecture: true,
    vocabSize: true,
    contextLength: true,
    eosTokenIds: true,
    modelCardKey: true,
    capabilities: true,
    kvCacheGroups: true,
  }),
  KvCacheGroup: k<M.KvCacheGroup>({ slidingWindow: true, layers: true }),
  Capabilities: k<M.Capabilities>({ kernels: true, threads: true, weightType: true, logprobs: true }),
  WarmupRequest: k<M.WarmupRequest>({
    blockSize: true,
    numBlocks: true,
    maxNumBatchedTokens: true,
    maxNumSeqs: true,
    fencingToken: true,
  }),
  WarmupResponse: k<M.WarmupResponse>({ numBlocks: true, blockSize: true, kvBytesPerBlock: true }),
  SamplingParams: k<M.ProtoSamplingParams>({
    temperature: true,
    topP: true,
    topK: true,
    minP: true,
    seed: true,
    presencePenalty: true,
    frequencyPenalty: true,
    repetitionPenalty: true,
    logitBias: true,
    logprobs: true,
    minTokens: true,
    stopTokenIds: true,
    ignoreEos: true,
    promptLogprobs: true,
  }),
  NewRequest: k<M.NewRequest>({
    requestId: true,
    tokenIds: true,
    sampling: true,
    blockIds: true,
    numComputedTokens: true,
    numScheduledTokens: true,
    numOutputTokens: true,
    pooling: true,
  }),
  PoolingParams: k<M.ProtoPoolingParams>({ type: true, normalize: true, dimensions: true }),
  PooledOutput: k<M.PooledOutput>({ requestId: true, embedding: true }),
  CachedRequest: k<M.CachedRequest>({
    requestId: true,
    newBlockIds: true,
    numComputedTokens: true,
    numScheduledTokens: true,
  }),
  StepRequest: k<M.StepRequest>({
    stepId: true,
    fencingToken: true,
    newRequests: true,
    cachedRequests: true,
    finishedIds: true,
    preemptedIds: true,
    tokenBitmasks: true,
  }),
  TokenBitmask: k<M.TokenBitmask>({ requestId: true, words: true }),
  TopLogprob: k<M.TopLogprob>({ tokenId: true, logprob: true }),
  SampledToken: k<M.SampledToken>({ requestId: true, tokenId: true, logprob: true, top: true }),
  PromptTokenLogprob: k<M.PromptTokenLogprob>({ tokenId: true, logprob: true, top: true }),
  PromptLogprobs: k<M.PromptLogprobs>({ requestId: true, startPosition: true, tokens: true }),
  StepResponse: k<M.StepResponse>({
    stepId: true,
    sampled: true,
    forwardSeconds: true,
    error: true,
    promptLogprobs: true,
    pooled: true,
  }),
  ResetRequest: k<M.ResetRequest>({ fencingToken: true }),
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

test('worker-messages.ts field names match proto/loom/v1/worker.proto', () => {
  const def = packageDefinition();
  for (const [message, fields] of Object.entries(EXPECTED)) {
    const type = def[`loom.v1.${message}`] as unknown as { type: { field: { name: string }[] } };
    assert.ok(type, `message ${message} exists`);
    const protoFields = type.type.field.map((f) => camel(f.name)).sort();
    assert.deepEqual(protoFields, [...fields].sort(), `fields of ${message}`);
  }
});

test('WorkerService has Info, Warmup, Step (bidi), Reset; health service loads', () => {
  const svc = packageDefinition()['loom.v1.WorkerService'] as unknown as Record<
    string,
    { requestStream: boolean; responseStream: boolean }
  >;
  assert.deepEqual(Object.keys(svc).sort(), ['Info', 'Reset', 'Step', 'Warmup']);
  assert.equal(svc.Step!.requestStream, true);
  assert.equal(svc.Step!.responseStream, true);
  assert.ok(packageDefinition()['grpc.health.v1.Health']);
});
