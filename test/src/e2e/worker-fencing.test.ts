import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { at } from '@loom/common';
import * as grpc from '@grpc/grpc-js';
import { createWorkerClient, unary, type StepRequest, type StepResponse, type WorkerClient } from '@loom/proto';
import { spawnService, startRedis, type RedisHandle, type ServiceProcess } from '../harness/index.js';
import { tokenizerDataFromGguf, Tokenizer } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { STORIES_F32 } from '../fixtures/local-cluster.js';

const vocab = Tokenizer.fromData(tokenizerDataFromGguf(readGgufMetadata(STORIES_F32())));

const greedy = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  logitBias: {},
};

/** A real worker process refuses anything carrying a fencing token older than the newest it has seen. */
describe('worker fencing', () => {
  let redis: RedisHandle;
  let worker: ServiceProcess;
  let client: WorkerClient;

  before(async () => {
    redis = await startRedis();
    worker = await spawnService('worker', {
      REDIS_URL: redis.url,
      LOOM_MODEL: STORIES_F32(),
      LOOM_THREADS: '1',
      LOOM_NUM_BLOCKS: '48',
    });
    client = createWorkerClient(worker.address!);
  });
  after(async () => {
    client?.close();
    await worker?.stop();
    await redis?.stop();
  });

  const step = (call: grpc.ClientDuplexStream<StepRequest, StepResponse>, req: StepRequest) =>
    new Promise<StepResponse>((resolve) => {
      call.once('data', resolve);
      call.write(req);
    });

  test('a newer leader fences off an older one', async () => {
    const warm = await unary(client.warmup.bind(client), {
      blockSize: 16,
      numBlocks: 64,
      maxNumBatchedTokens: 64,
      maxNumSeqs: 4,
      fencingToken: 7,
    });
    assert.equal(warm.numBlocks, 48, "the worker's own --num-blocks wins over what Warmup asks");
    await assert.rejects(unary(client.reset.bind(client), { fencingToken: 6 }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
      assert.match(err.details, /stale fencing token 6/);
      return true;
    });
    const call = client.step();
    call.on('error', () => undefined); // the stream drops when the worker stops in teardown
    const req = (fencingToken: number, id: string): StepRequest => ({
      stepId: fencingToken,
      fencingToken,
      newRequests: [
        {
          requestId: id,
          tokenIds: [1, 403, 407, 261, 378],
          sampling: greedy,
          blockIds: [0],
          numComputedTokens: 0,
          numScheduledTokens: 5,
          numOutputTokens: 0,
        },
      ],
      cachedRequests: [],
      finishedIds: [],
      preemptedIds: [],
    });
    const stale = await step(call, req(6, 'old-leader'));
    assert.match(stale.error, /stale fencing token 6/);
    assert.equal(stale.sampled.length, 0);
    const fresh = await step(call, req(7, 'leader'));
    assert.equal(fresh.error, '');
    assert.equal(fresh.sampled.length, 1);
    assert.equal(at(fresh.sampled, 0).requestId, 'leader');
    assert.equal(
      vocab.tokenToPiece(at(fresh.sampled, 0).tokenId),
      ',',
      'greedy first token after "Once upon a time" is ","',
    );
    call.end();
  });
});
